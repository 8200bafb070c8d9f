#include "websocketframemodel.h"

#include "palettes.h"
#include "textescape.h"
#include "units.h"
#include "wsframescanner.h"

#include <QBrush>
#include <QGuiApplication>
#include <QPalette>

namespace Echoscope {

WebSocketFrameModel::WebSocketFrameModel(QObject *parent) : QAbstractTableModel(parent) {}

void WebSocketFrameModel::setFrames(const QList<WebSocketFrameRecord> &frames, qint64 framesSeen)
{
    const qint64 added = framesSeen - m_framesSeen;
    // What the ring dropped since the last call: the old rows that are not in frames.
    const qint64 dropped = qint64(m_frames.size()) + added - qint64(frames.size());
    if (added < 0 || added > frames.size() || dropped < 0 || dropped > m_frames.size()) {
        // Another client's log, or more new frames than the ring holds: start over.
        beginResetModel();
        m_frames = frames;
        m_framesSeen = framesSeen;
        endResetModel();
        return;
    }
    if (dropped > 0) {
        beginRemoveRows(QModelIndex(), 0, int(dropped) - 1);
        m_frames.remove(0, qsizetype(dropped));
        endRemoveRows();
    }
    m_framesSeen = framesSeen;
    if (added > 0) {
        const int first = int(m_frames.size());
        beginInsertRows(QModelIndex(), first, first + int(added) - 1);
        m_frames.append(frames.mid(frames.size() - qsizetype(added)));
        endInsertRows();
    }
}

void WebSocketFrameModel::clear()
{
    beginResetModel();
    m_frames.clear();
    m_framesSeen = 0;
    endResetModel();
}

const WebSocketFrameRecord *WebSocketFrameModel::frameAt(int row) const
{
    return row >= 0 && row < m_frames.size() ? &m_frames.at(row) : nullptr;
}

int WebSocketFrameModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_frames.size());
}

int WebSocketFrameModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString WebSocketFrameModel::closeText(const WebSocketFrameRecord &frame)
{
    if (frame.opcode != WsFrameHeader::Close || frame.closeCode == 0)
        return QString();
    if (frame.closeReason.isEmpty())
        return QString::number(frame.closeCode);
    return tr("%1 \"%2\"")
        .arg(frame.closeCode)
        .arg(TextEscape::escapeText(QString::fromUtf8(frame.closeReason)));
}

QVariant WebSocketFrameModel::data(const QModelIndex &index, int role) const
{
    const WebSocketFrameRecord *frame = frameAt(index.row());
    if (!frame || index.column() < 0 || index.column() >= ColumnCount)
        return {};
    if (role == Qt::DisplayRole) {
        switch (Column(index.column())) {
        case TimeColumn:
            return Units::timeOfDay(frame->timestampMs);
        case DirectionColumn:
            return frame->received ? tr("in") : tr("out");
        case OpcodeColumn:
            return WsFrameHeader::opcodeName(frame->opcode);
        case FinColumn:
            return frame->fin ? tr("yes") : tr("no");
        case MaskedColumn:
            return frame->masked ? tr("yes") : tr("no");
        case LengthColumn:
            return Units::count(frame->length);
        case CloseColumn:
            return closeText(*frame);
        case ColumnCount:
            break;
        }
    } else if (role == Qt::TextAlignmentRole) {
        if (index.column() == LengthColumn)
            return int(Qt::AlignRight | Qt::AlignVCenter);
    } else if (role == Qt::ForegroundRole) {
        // The hex view's colours (Wireshark's): the client's red, the server's blue.
        const bool dark = Palettes::isDark(QGuiApplication::palette());
        if (frame->received)
            return QBrush(dark ? QColor(0xff, 0xa0, 0xa0) : QColor(0x9c, 0x12, 0x12));
        return QBrush(dark ? QColor(0xa0, 0xc4, 0xff) : QColor(0x12, 0x3c, 0x9c));
    } else if (role == Qt::ToolTipRole) {
        QString tip = frame->received ? tr("Received from the client") : tr("Sent to the client");
        tip += tr(": a %1 frame of %2")
                   .arg(WsFrameHeader::opcodeName(frame->opcode), Units::exactBytes(frame->length));
        if (!frame->fin)
            tip += tr(", not the last of its message (FIN clear)");
        if (frame->received && !frame->masked)
            tip += tr(", not masked: a client's frames must be (closed with 1002)");
        const QString close = closeText(*frame);
        if (!close.isEmpty())
            tip += tr(", close code %1").arg(close);
        return tip;
    }
    return {};
}

QVariant WebSocketFrameModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) {
        switch (Column(section)) {
        case TimeColumn:
            return tr("Time");
        case DirectionColumn:
            return tr("Way");
        case OpcodeColumn:
            return tr("Opcode");
        case FinColumn:
            return tr("FIN");
        case MaskedColumn:
            return tr("Masked");
        case LengthColumn:
            return tr("Length");
        case CloseColumn:
            return tr("Close code");
        case ColumnCount:
            break;
        }
    } else if (role == Qt::ToolTipRole) {
        switch (Column(section)) {
        case TimeColumn:
            return tr("When the frame went by (local time)");
        case DirectionColumn:
            return tr("in: from the client; out: from the server");
        case OpcodeColumn:
            return tr("The frame's kind: text, binary, continuation, close, ping, pong");
        case FinColumn:
            return tr("Set on the last frame of a message");
        case MaskedColumn:
            return tr("Client frames must be masked (RFC 6455 5.3); server frames are not");
        case LengthColumn:
            return tr("Payload bytes of the frame; the payload is in the capture below");
        case CloseColumn:
            return tr("Close frames: the status code and the reason");
        case ColumnCount:
            break;
        }
    }
    return QAbstractTableModel::headerData(section, orientation, role);
}

} // namespace Echoscope
