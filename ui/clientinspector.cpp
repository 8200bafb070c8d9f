#include "clientinspector.h"

#include "pcapngwriter.h"
#include "clientstats.h"
#include "echoserver.h"
#include "hexview.h"
#include "palettes.h"
#include "recording.h"
#include "textescape.h"
#include "trafficevent.h"
#include "trafficmonitor.h"
#include "translations.h"
#include "units.h"
#include "websocketframemodel.h"

#include <QApplication>
#include <QButtonGroup>
#include <QClipboard>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QHeaderView>
#include <QPlainTextEdit>
#include <QMenu>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace Echoscope {

namespace {
enum Detail {
    Peer,
    Connected,
    State,
    BytesInOut,
    MessagesInOut,
    Sizes,
    Unsent,
    Rate,
    Faults,
    Tls,
    WebSocket,
    DetailCount
};

QString stateText(const ClientView &view)
{
    if (!view.connected)
        return QObject::tr("disconnected: %1").arg(view.disconnect.describe());
    switch (view.counters.state) {
    case ClientState::Connected:
        return view.counters.transport == IpProtocol::Udp
                   ? QObject::tr("active: sending datagrams; forgotten after the UDP idle "
                                 "timeout")
                   : QObject::tr("connected");
    case ClientState::Paused:
        return QObject::tr("paused: its echo is not being read (backpressure)");
    case ClientState::Draining:
        return QObject::tr("half-closed by the client; finishing the echo");
    case ClientState::Closed:
        return QObject::tr("closed");
    case ClientState::Handshaking:
        return view.counters.transport == IpProtocol::WebSocket
                   ? QObject::tr("WebSocket handshake in progress (the upgrade request; for "
                                 "wss:// the TLS handshake first)")
                   : QObject::tr("TLS handshake in progress");
    case ClientState::Stopped:
        return QObject::tr("not reading: the stop-reading fault holds its input");
    }
    return QString();
}
} // namespace

ClientInspector::ClientInspector(QWidget *parent) : QWidget(parent)
{
    m_title = new QLabel(this);
    QFont titleFont = m_title->font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.15);
    m_title->setFont(titleFont);
    m_title->setTextFormat(Qt::PlainText);
    m_title->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);

    m_disconnect = new QPushButton(tr("&Disconnect"), this);
    m_disconnect->setToolTip(tr("Close this client's connection (reason: kicked)"));
    connect(m_disconnect, &QPushButton::clicked, this, [this] {
        if (m_clientId != 0)
            emit disconnectRequested(m_clientId);
    });

    m_faults = new QPushButton(tr("&Faults…"), this);
    m_faults->setToolTip(tr("Inject faults into this client's echo: delay, bandwidth, slices, "
                            "close, reset, stop reading"));
    connect(m_faults, &QPushButton::clicked, this, [this] {
        if (m_clientId != 0)
            emit faultsRequested(m_clientId);
    });

    // One Export button with a menu, so the header keeps room for the title (the peer's
    // address and port) at the default window size.
    auto *exportMenu = new QMenu(this);
    QAction *exportRecordingAction =
        exportMenu->addAction(tr("&Recording for echoscope replay…"), this,
                              &ClientInspector::exportRecordingInteractively);
    exportRecordingAction->setToolTip(tr("Save this client's captured traffic and events as a "
                                         "recording that \"echoscope replay\" can send to an "
                                         "echo server again"));
    m_exportPcapng = exportMenu->addAction(tr("&pcapng for Wireshark…"), this,
                                           &ClientInspector::exportPcapngInteractively);
    m_exportPcapng->setToolTip(tr("Save this client's captured bytes as a pcapng file for "
                                  "Wireshark: both directions with their times, under "
                                  "synthetic IP and TCP (or UDP) headers"));
    exportMenu->setToolTipsVisible(true);
    m_export = new QPushButton(tr("&Export"), this);
    m_export->setToolTip(tr("Save this client's capture: as a recording for \"echoscope "
                            "replay\", or as a pcapng file for Wireshark"));
    m_export->setMenu(exportMenu);

    auto *header = new QHBoxLayout;
    header->addWidget(m_title, 1);
    header->addWidget(m_faults);
    header->addWidget(m_export);
    header->addWidget(m_disconnect);

    const QString names[DetailCount] = {tr("Peer"),
                                        tr("Connected"),
                                        tr("State"),
                                        tr("Bytes in / out"),
                                        tr("Messages in / out"),
                                        tr("Message sizes"),
                                        tr("Unsent echo"),
                                        tr("Rate in / out"),
                                        tr("Faults"),
                                        tr("TLS"),
                                        tr("WebSocket")};
    // Two pairs a row where the values are short, one where they are long (the state, the
    // unsent echo: sentences for some clients), so that the capture below keeps most of the
    // height and every value reads whole at the default window size.
    auto *form = new QGridLayout;
    form->setContentsMargins(0, 0, 0, 0);
    form->setVerticalSpacing(2);
    form->setHorizontalSpacing(8);
    form->setColumnStretch(1, 1);
    form->setColumnStretch(3, 1);
    for (const QString &name : names) {
        auto *value = new QLabel(this);
        value->setTextFormat(Qt::PlainText);
        value->setTextInteractionFlags(Qt::TextSelectableByMouse);
        // Values change on every snapshot: a fixed-height, width-ignoring label keeps
        // that from re-laying out the window 20 times a second.
        value->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
        auto *label = new QLabel(name + QLatin1Char(':'), this);
        label->setBuddy(value);
        m_detailLabels.append(label);
        m_detailValues.append(value);
    }
    const struct
    {
        int detail;
        int row;
        int pair; // 0: left, 1: right, -1: the whole row
    } places[DetailCount] = {
        {Peer, 0, 0},          {Connected, 0, 1}, {State, 1, -1},     {BytesInOut, 2, -1},
        {MessagesInOut, 3, 0}, {Rate, 3, 1},      {Unsent, 4, -1},    {Sizes, 5, -1},
        {Faults, 6, -1},       {Tls, 7, -1},      {WebSocket, 8, -1},
    };
    for (const auto &place : places) {
        const int column = place.pair == 1 ? 2 : 0;
        form->addWidget(m_detailLabels.at(place.detail), place.row, column);
        form->addWidget(m_detailValues.at(place.detail), place.row, column + 1, 1,
                        place.pair < 0 ? 3 : 1);
    }

    m_hexView = new HexView(this);
    m_hexView->setPlaceholderText(tr("No bytes captured yet"));

    auto *hex = new QPushButton(tr("He&x"), this);
    auto *text = new QPushButton(tr("&Text"), this);
    hex->setToolTip(tr("Hex dump in the Wireshark layout: offset, 16 bytes, ASCII"));
    text->setToolTip(tr("The bytes as UTF-8 text, control bytes escaped"));
    m_mode = new QButtonGroup(this);
    for (QPushButton *button : {hex, text}) {
        button->setCheckable(true);
        button->setFlat(false);
        Palettes::showCheckedState(button);
    }
    m_mode->addButton(hex, int(HexView::Mode::Hex));
    m_mode->addButton(text, int(HexView::Mode::Text));
    hex->setChecked(true);
    connect(m_mode, &QButtonGroup::idClicked, this,
            [this](int id) { m_hexView->setMode(HexView::Mode(id)); });
    // The view's own context menu switches modes too; the buttons follow it.
    connect(m_hexView, &HexView::modeChanged, this,
            [this](HexView::Mode mode) { m_mode->button(int(mode))->setChecked(true); });
    m_copy = new QPushButton(tr("&Copy"), this);
    m_copy->setToolTip(tr("Copy the whole capture as shown"));
    connect(m_copy, &QPushButton::clicked, this,
            [this] { QApplication::clipboard()->setText(m_hexView->toPlainText()); });

    m_captureInfo = new QLabel(this);
    m_captureInfo->setTextFormat(Qt::PlainText);
    m_captureInfo->setForegroundRole(QPalette::PlaceholderText);
    m_captureInfo->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);

    auto *captureBar = new QHBoxLayout;
    captureBar->addWidget(hex);
    captureBar->addWidget(text);
    captureBar->addWidget(m_copy);
    captureBar->addSpacing(8);
    captureBar->addWidget(m_captureInfo, 1);

    // WebSocket clients: their frames and upgrade request, above the capture.
    m_frameModel = new WebSocketFrameModel(this);
    m_frameView = new QTableView(this);
    m_frameView->setModel(m_frameModel);
    m_frameView->setObjectName(QStringLiteral("webSocketFrames"));
    m_frameView->setAccessibleName(tr("WebSocket frames"));
    m_frameView->setAccessibleDescription(
        tr("The client's newest WebSocket frames both ways: time, way, opcode, FIN, masked, "
           "length and close code"));
    m_frameView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_frameView->setAlternatingRowColors(true);
    m_frameView->setWordWrap(false);
    m_frameView->verticalHeader()->hide();
    m_frameView->verticalHeader()->setDefaultSectionSize(m_frameView->fontMetrics().height() + 4);
    m_frameView->horizontalHeader()->setStretchLastSection(true);
    m_frameView->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    const QFontMetrics metrics = m_frameView->fontMetrics();
    const int widths[WebSocketFrameModel::CloseColumn] = {
        metrics.horizontalAdvance(QStringLiteral("00:00:00.000")),
        metrics.horizontalAdvance(tr("Way")),
        metrics.horizontalAdvance(QStringLiteral("continuation")),
        metrics.horizontalAdvance(tr("FIN")),
        metrics.horizontalAdvance(tr("Masked")),
        metrics.horizontalAdvance(QStringLiteral("000,000,000"))};
    for (int column = 0; column < WebSocketFrameModel::CloseColumn; ++column)
        m_frameView->setColumnWidth(column, widths[column] + 16);
    m_requestView = new QPlainTextEdit(this);
    m_requestView->setObjectName(QStringLiteral("webSocketRequest"));
    m_requestView->setAccessibleName(tr("WebSocket upgrade request"));
    m_requestView->setAccessibleDescription(
        tr("What the client asked for: the path, origin, subprotocols and every header"));
    m_requestView->setReadOnly(true);
    m_requestView->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_requestView->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_requestView->setPlaceholderText(tr("The upgrade request is not complete yet"));
    m_webSocketPane = new QTabWidget(this);
    m_webSocketPane->setDocumentMode(true);
    m_webSocketPane->addTab(m_frameView, tr("WebSocket frames"));
    m_webSocketPane->addTab(m_requestView, tr("Upgrade request"));
    m_webSocketPane->setTabToolTip(0, tr("The newest %1 frames both ways, as they went by on "
                                         "the wire; their payload is in the capture below")
                                          .arg(WebSocketLog::kMaxFrames));
    m_webSocketPane->setTabToolTip(1, tr("What the client asked for: the path, origin, "
                                         "subprotocols and every header"));
    m_webSocketPane->hide();

    auto *capturePane = new QWidget(this);
    auto *captureLayout = new QVBoxLayout(capturePane);
    captureLayout->setContentsMargins(0, 0, 0, 0);
    captureLayout->addLayout(captureBar);
    captureLayout->addWidget(m_hexView, 1);
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->setChildrenCollapsible(false);
    splitter->addWidget(m_webSocketPane);
    splitter->addWidget(capturePane);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 1);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(header);
    m_note = new QLabel(this);
    m_note->setObjectName(QStringLiteral("inspectorNote"));
    m_note->setWordWrap(true);
    m_note->setForegroundRole(QPalette::PlaceholderText);
    m_note->hide();
    layout->addWidget(m_note);
    layout->addLayout(form);
    layout->addWidget(splitter, 1);
    showNone();
}

ClientInspector::~ClientInspector()
{
    setClient(0, nullptr); // give the watched client its small ring back
}

void ClientInspector::setCaptureBytes(qint64 perClientBytes, qint64 inspectedBytes)
{
    m_perClientCaptureBytes = perClientBytes;
    m_inspectedCaptureBytes = inspectedBytes;
    if (m_stats && m_connected)
        m_stats->capture()->setCapacity(qMax(perClientBytes, inspectedBytes));
}

void ClientInspector::setClient(quint64 clientId, std::shared_ptr<const ClientStats> stats)
{
    if (clientId == m_clientId && stats == m_stats)
        return;
    if (m_stats && m_connected)
        m_stats->capture()->setCapacity(m_perClientCaptureBytes);
    m_clientId = stats ? clientId : 0;
    m_stats = std::move(stats);
    m_captureGeneration = 0;
    m_captureUnshownBytes = 0;
    m_hexView->clear();
    m_frameModel->clear();
    m_requestView->clear();
    m_webSocketRequestShown = false;
    m_webSocketSecureKnown = false;
    m_webSocketSecure = false;
    m_webSocketFrameCount = -1;
    if (!m_stats) {
        showNone();
        return;
    }
    m_connected = m_stats->state() != ClientState::Closed;
    // A closed client's ring is what it is: growing it would capture nothing more.
    if (m_connected)
        m_stats->capture()->setCapacity(qMax(m_perClientCaptureBytes, m_inspectedCaptureBytes));
    m_title->setText(tr("Client %1 — %2 %3")
                         .arg(m_clientId)
                         .arg(TrafficEvent::endpoint(m_stats->peerAddress(), m_stats->peerPort()),
                              ipProtocolName(m_stats->transport())));
    m_disconnect->setToolTip(
        m_stats->transport() == IpProtocol::Udp
            ? tr("Forget this UDP peer (reason: kicked); its next datagram makes it a new client")
        : m_stats->transport() == IpProtocol::WebSocket
            ? tr("Close this WebSocket client's connection (reason: kicked): a close frame with "
                 "1000 (normal closure) once it is upgraded, else the connection is closed")
            : tr("Close this client's connection (reason: kicked)"));
    m_disconnect->setEnabled(m_connected);
    // A UDP peer's datagrams get the blackhole and the UDP rates; a stream all the rest.
    const bool udp = m_stats->transport() == IpProtocol::Udp;
    m_faults->setEnabled(m_connected);
    m_faults->setToolTip(udp ? tr("Inject faults into this UDP peer's echo: blackhole, loss, "
                                  "duplication, reordering, corruption")
                             : tr("Inject faults into this client's echo: delay, bandwidth, "
                                  "slices, close, reset, timeout, blackhole, stop reading"));
    m_export->setEnabled(true);
    m_exportPcapng->setEnabled(true);
    const bool webSocket = m_stats->webSocket() != nullptr;
    m_detailLabels.at(WebSocket)->setVisible(webSocket);
    m_detailValues.at(WebSocket)->setVisible(webSocket);
    m_webSocketPane->setVisible(webSocket);
    refreshCapture(true);
    refreshWebSocket(true);
}

void ClientInspector::showNone()
{
    m_connected = false;
    m_title->setText(tr("No client selected"));
    for (QLabel *value : std::as_const(m_detailValues))
        value->setText(QStringLiteral("—"));
    m_captureInfo->setText(tr("Select a client in the table to see its traffic"));
    m_disconnect->setEnabled(false);
    m_faults->setEnabled(false);
    m_export->setEnabled(false);
    m_exportPcapng->setEnabled(false);
    m_copy->setEnabled(false);
    m_detailLabels.at(WebSocket)->hide();
    m_detailValues.at(WebSocket)->hide();
    m_webSocketPane->hide();
}

void ClientInspector::updateClient(const ClientView *view)
{
    if (!m_stats)
        return;
    if (view) {
        const ClientSnapshot &c = view->counters;
        const qint64 endMs = view->connected ? QDateTime::currentMSecsSinceEpoch()
                                             : c.connectedAtMs + view->disconnect.durationMs;
        m_detailValues[Peer]->setText(TrafficEvent::endpoint(c.peerAddress, c.peerPort) +
                                      QLatin1Char(' ') + ipProtocolName(c.transport));
        m_detailValues[Connected]->setText(
            tr("%1, for %2")
                .arg(Units::timeOfDay(c.connectedAtMs), Units::duration(endMs - c.connectedAtMs)));
        m_detailValues[State]->setText(stateText(*view));
        m_detailValues[BytesInOut]->setText(
            tr("%1 / %2 (%3 / %4)")
                .arg(Units::bytes(c.bytesIn), Units::bytes(c.bytesOut),
                     Units::exactBytes(c.bytesIn), Units::exactBytes(c.bytesOut)));
        m_detailValues[MessagesInOut]->setText(
            QStringLiteral("%1 / %2").arg(Units::count(c.messagesIn), Units::count(c.messagesOut)));
        m_detailValues[Sizes]->setText(c.messagesIn == 0
                                           ? tr("no messages yet")
                                           : tr("last %1 · min %2 · mean %3 · max %4")
                                                 .arg(Units::bytes(c.lastMessageBytes),
                                                      Units::bytes(c.minMessageBytes),
                                                      Units::bytes(c.messageBytesIn / c.messagesIn),
                                                      Units::bytes(c.maxMessageBytes)));
        if (c.transport == IpProtocol::Udp) {
            // Nothing waits to be sent: an echo goes at once or is dropped. What a peer sent
            // and did not get back is what its row says instead: too large, dropped by the
            // kernel, or taken by its faults (the blackhole, loss, one held to reorder).
            m_detailLabels[Unsent]->setText(tr("Not echoed") + QLatin1Char(':'));
            const qint64 missing = c.bytesIn - c.bytesOut;
            m_detailValues[Unsent]->setText(
                missing > 0 ? tr("%1 (UDP queues no echo: it is sent at once, dropped, or "
                                 "taken by a fault)")
                                  .arg(Units::bytes(missing))
                : missing < 0 ? tr("none; %1 more echoed than received (duplicated by a fault)")
                                    .arg(Units::bytes(-missing))
                              : tr("none (UDP queues no echo: it is sent at once or dropped)"));
        } else {
            m_detailLabels[Unsent]->setText(tr("Unsent echo") + QLatin1Char(':'));
            m_detailValues[Unsent]->setText(
                tr("%1 now, %2 at most")
                    .arg(Units::bytes(c.unsentBytes), Units::bytes(c.peakUnsentBytes)));
        }
        m_detailValues[Rate]->setText(
            QStringLiteral("%1 / %2").arg(Units::bytesPerSecond(view->bytesInPerSecond),
                                          Units::bytesPerSecond(view->bytesOutPerSecond)));
        m_detailValues[Faults]->setText(
            c.faults.isEmpty()
                ? (c.faultsPerClient ? tr("none (cleared for this client)") : tr("none"))
                : tr("%1 (%2)").arg(c.faults.describe(), c.faultsPerClient
                                                             ? tr("this client's own")
                                                             : tr("those for all clients")));
        if (!c.tlsProtocol.isEmpty())
            m_detailValues[Tls]->setText(tr("%1, %2 (%3-bit); bytes and capture are plaintext")
                                             .arg(c.tlsProtocol, c.tlsCipher)
                                             .arg(c.tlsCipherBits));
        else if (c.transport == IpProtocol::Udp)
            m_detailValues[Tls]->setText(tr("none (UDP datagrams)"));
        else if (c.transport == IpProtocol::WebSocket && !webSocketSecure())
            m_detailValues[Tls]->setText(tr("none (ws://, plain TCP)"));
        else if (view->connected && c.state == ClientState::Handshaking)
            m_detailValues[Tls]->setText(tr("handshake in progress"));
        else if (view->disconnect.reason == DisconnectReason::TlsHandshakeFailed &&
                 !view->connected)
            m_detailValues[Tls]->setText(tr("no session: the handshake failed"));
        else if (c.transport == IpProtocol::WebSocket)
            m_detailValues[Tls]->setText(tr("no session: the TLS handshake did not complete"));
        else
            m_detailValues[Tls]->setText(tr("none (plain TCP)"));
        if (const WebSocketLog *log = m_stats->webSocket()) {
            if (c.webSocketResource.isEmpty() && !log->hasRequest()) {
                m_detailValues[WebSocket]->setText(view->connected ? tr("upgrade not complete")
                                                                   : tr("never upgraded"));
            } else {
                m_detailValues[WebSocket]->setText(
                    tr("%1, path %2 · %3 · %4 in / %5 out")
                        .arg(webSocketSecure() ? QStringLiteral("wss://") : QStringLiteral("ws://"),
                             TextEscape::escapeText(c.webSocketResource),
                             tr("%1 ping(s)", nullptr, Translations::pluralCount(c.webSocketPings))
                                 .arg(Units::count(c.webSocketPings)),
                             tr("%1 frame(s)", nullptr,
                                Translations::pluralCount(log->framesReceived()))
                                 .arg(Units::count(log->framesReceived())),
                             Units::count(log->framesSent())));
            }
        }
        if (m_connected && !view->connected) {
            m_connected = false;
            m_disconnect->setEnabled(false);
            m_faults->setEnabled(false);
        }
    }
    // A value wider than its place (a narrow window) is cut: its tooltip has it whole.
    for (QLabel *value : std::as_const(m_detailValues)) {
        const bool cut = value->fontMetrics().horizontalAdvance(value->text()) > value->width();
        value->setToolTip(cut ? value->text() : QString());
    }
    refreshCapture(false);
    refreshWebSocket(false);
}

bool ClientInspector::webSocketSecure() const
{
    if (m_webSocketSecureKnown)
        return m_webSocketSecure;
    // Before the request is known: what the server's WebSocket port speaks now.
    return m_server && m_server->webSocketScheme() == QLatin1String("wss");
}

void ClientInspector::refreshWebSocket(bool force)
{
    const WebSocketLog *log = m_stats ? m_stats->webSocket() : nullptr;
    if (!log)
        return;
    if (!m_webSocketRequestShown && log->hasRequest()) {
        const WebSocketRequest request = log->request();
        m_webSocketRequestShown = true;
        m_webSocketSecureKnown = true;
        m_webSocketSecure = request.secure;
        const auto escaped = [](const QString &text) { return TextEscape::escapeText(text); };
        QStringList lines;
        lines << tr("Resource: %1").arg(escaped(request.resource));
        lines << tr("Scheme: %1")
                     .arg(request.secure ? QStringLiteral("wss://") : QStringLiteral("ws://"));
        lines << tr("Origin: %1")
                     .arg(request.origin.isEmpty() ? tr("(none sent)") : escaped(request.origin));
        lines << tr("Requested subprotocols: %1")
                     .arg(request.requestedProtocols.isEmpty()
                              ? tr("(none)")
                              : escaped(request.requestedProtocols.join(QStringLiteral(", "))));
        lines << tr("Accepted subprotocol: %1")
                     .arg(request.acceptedProtocol.isEmpty() ? tr("(none)")
                                                             : escaped(request.acceptedProtocol));
        lines << QString();
        lines << tr("Headers (%1), as sent:").arg(request.headers.size());
        for (const auto &[name, value] : request.headers)
            lines << QStringLiteral("%1: %2").arg(escaped(QString::fromLatin1(name)),
                                                  escaped(QString::fromUtf8(value)));
        m_requestView->setPlainText(lines.join(QLatin1Char('\n')));
    }
    // Two relaxed loads; the log's lock and a copy only when frames went by.
    const qint64 count = log->framesReceived() + log->framesSent();
    if (!force && count == m_webSocketFrameCount)
        return;
    m_webSocketFrameCount = count;
    qint64 seen = 0;
    const QList<WebSocketFrameRecord> frames = log->frames(&seen);
    QScrollBar *scroll = m_frameView->verticalScrollBar();
    const bool atEnd = scroll->value() >= scroll->maximum();
    m_frameModel->setFrames(frames, seen);
    if (atEnd) // follow new frames, unless the user scrolled back to read
        m_frameView->scrollToBottom();
}

QString ClientInspector::webSocketRequestText() const
{
    return m_requestView->toPlainText();
}

void ClientInspector::refreshCapture(bool force)
{
    const CaptureBuffer *capture = m_stats->capture();
    if (!force && capture->generation() == m_captureGeneration)
        return;
    // A refresh takes only what was captured since the last one; the whole ring when the
    // client is new to the view, or when the ring dropped bytes before they were shown.
    const CapturePosition shown = m_hexView->position();
    const CaptureSnapshot snapshot = force ? capture->snapshot() : capture->snapshotSince(shown);
    for (const CaptureChunk &chunk : snapshot.chunks)
        m_captureBytesCopied += chunk.bytes.size();
    if (!force && !snapshot.tailOnly)
        m_captureUnshownBytes += std::max<qint64>(0, snapshot.heldFromTotal - shown.totalBytes);
    m_captureGeneration = snapshot.generation;
    m_hexView->setCapture(snapshot);
    m_copy->setEnabled(snapshot.heldBytes > 0);
    // Short, as the label is as wide as the room beside the buttons; the whole in the tooltip.
    QString info = tr("%1 held of %2")
                       .arg(Units::bytes(snapshot.heldBytes), Units::bytes(snapshot.capacityBytes));
    QString toolTip =
        tr("The capture ring holds %1 of at most %2 (received and echoed together)")
            .arg(Units::exactBytes(snapshot.heldBytes), Units::exactBytes(snapshot.capacityBytes));
    if (snapshot.droppedBytes > 0) {
        info += tr(" · %1 dropped").arg(Units::bytes(snapshot.droppedBytes));
        toolTip += tr("; %1 older were dropped to make room")
                       .arg(Units::exactBytes(snapshot.droppedBytes));
    }
    if (m_captureUnshownBytes > 0) {
        info += tr(" · %1 never shown").arg(Units::bytes(m_captureUnshownBytes));
        toolTip += tr("; %1 went by faster than the view refreshes: the ring dropped them "
                      "before they were shown, and the view started again from what it holds")
                       .arg(Units::exactBytes(m_captureUnshownBytes));
    }
    if (snapshot.capacityBytes == 0)
        info = toolTip = tr("Capture is off (Preferences: capture per client)");
    m_captureInfo->setText(info);
    m_captureInfo->setToolTip(toolTip);
}

void ClientInspector::setRecordingSources(const EchoServer *server, const TrafficMonitor *monitor)
{
    m_server = server;
    m_monitor = monitor;
}

bool ClientInspector::exportRecording(const QString &path, QString *error) const
{
    if (!m_stats) {
        *error = tr("cannot write \"%1\": no client is selected").arg(path);
        return false;
    }
    QList<TrafficEvent> events;
    if (m_monitor) {
        const EventLog &log = m_monitor->eventLog();
        for (quint64 sequence = log.firstSequence(); sequence < log.nextSequence(); ++sequence) {
            const TrafficEvent *event = log.at(sequence);
            if (event && event->clientId == m_clientId)
                events.append(*event);
        }
    }
    const Recording recording =
        Recording::fromClient(*m_stats, events, m_server ? m_server->config() : ServerConfig(),
                              QDateTime::currentMSecsSinceEpoch());
    return recording.save(path, error);
}

void ClientInspector::exportRecordingInteractively()
{
    if (!m_stats)
        return;
    const CaptureSnapshot capture = m_stats->capture()->snapshot();
    if (capture.heldBytes == 0 &&
        QMessageBox::question(this, tr("Export recording"),
                              capture.capacityBytes == 0
                                  ? tr("Capture is off, so the recording will hold no bytes, "
                                       "only the client's events. Turn it on in Preferences "
                                       "(capture per client) for new clients. Export anyway?")
                                  : tr("Nothing has been captured from this client yet. Export "
                                       "anyway?")) != QMessageBox::Yes)
        return;
    Recording named;
    named.clientId = m_clientId;
    named.peerAddress = m_stats->peerAddress();
    named.peerPort = m_stats->peerPort();
    named.connectedAtMs = m_stats->connectedAtMs();
    const QString directory = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export recording of client %1").arg(m_clientId),
                                     QDir(directory).filePath(named.suggestedFileName()),
                                     tr("Echoscope recordings (*.jsonl);;All files (*)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!exportRecording(path, &error))
        QMessageBox::warning(this, tr("Export failed"), error);
}

bool ClientInspector::exportPcapng(const QString &path, QString *error) const
{
    if (!m_stats) {
        *error = tr("cannot write \"%1\": no client is selected").arg(path);
        return false;
    }
    return PcapngExport::fromClient(*m_stats).save(path, error);
}

void ClientInspector::exportPcapngInteractively()
{
    if (!m_stats)
        return;
    const CaptureSnapshot capture = m_stats->capture()->snapshot();
    if (capture.heldBytes == 0 &&
        QMessageBox::question(this, tr("Export pcapng"),
                              capture.capacityBytes == 0
                                  ? tr("Capture is off, so the file will hold only the "
                                       "synthetic handshake. Turn it on in Preferences "
                                       "(capture per client) for new clients. Export anyway?")
                                  : tr("Nothing has been captured from this client yet. Export "
                                       "anyway?")) != QMessageBox::Yes)
        return;
    PcapngExport named;
    named.clientId = m_clientId;
    named.clientAddress = m_stats->peerAddress();
    named.clientPort = m_stats->peerPort();
    named.connectedAtMs = m_stats->connectedAtMs();
    const QString directory = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export pcapng of client %1").arg(m_clientId),
                                     QDir(directory).filePath(named.suggestedFileName()),
                                     tr("pcapng files (*.pcapng);;All files (*)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!exportPcapng(path, &error))
        QMessageBox::warning(this, tr("Export failed"), error);
}

QString ClientInspector::detailsText() const
{
    QStringList lines{m_title->text()};
    for (int detail = 0; detail < DetailCount; ++detail) {
        if (detail == WebSocket && !(m_stats && m_stats->webSocket()))
            continue; // its row is hidden
        lines.append(m_detailValues.at(detail)->text());
    }
    return lines.join(QLatin1Char('\n'));
}

void ClientInspector::setNote(const QString &note)
{
    m_note->setText(note);
    m_note->setHidden(note.isEmpty());
}

QString ClientInspector::note() const
{
    return m_note->text();
}

QString ClientInspector::captureText() const
{
    return m_captureInfo->text();
}

} // namespace Echoscope
