#pragma once

#include "websocketlog.h"

#include <QAbstractTableModel>
#include <QList>

namespace Echoscope {

// The newest WebSocket frames of one client, both ways, one row each (oldest first), as
// WebSocketLog keeps them. setFrames() appends what is new and drops what the log's ring
// dropped, so the view keeps its scroll position and selection while frames go by.
class WebSocketFrameModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        TimeColumn,
        DirectionColumn,
        OpcodeColumn,
        FinColumn,
        MaskedColumn,
        LengthColumn,
        CloseColumn,
        ColumnCount
    };

    explicit WebSocketFrameModel(QObject *parent = nullptr);

    // frames: WebSocketLog::frames(&framesSeen), newest last.
    void setFrames(const QList<WebSocketFrameRecord> &frames, qint64 framesSeen);
    void clear();
    qint64 framesSeen() const { return m_framesSeen; }
    const WebSocketFrameRecord *frameAt(int row) const;

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    // "1000 normal closure: bye" for a close frame with a code, empty otherwise.
    static QString closeText(const WebSocketFrameRecord &frame);

private:
    QList<WebSocketFrameRecord> m_frames;
    qint64 m_framesSeen = 0;
};

} // namespace Echoscope
