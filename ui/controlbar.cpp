#include "controlbar.h"

#include "palettes.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHostAddress>
#include <QIcon>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkInterface>
#include <QPushButton>
#include <QSpinBox>
#include <QStackedWidget>
#include <QStyle>
#include <QToolButton>

namespace Echoscope {

namespace {

constexpr int kFramingParameterNone = 0;
constexpr int kFramingParameterDelimiter = 1;
constexpr int kFramingParameterLength = 2;
constexpr int kFramingParameterFixed = 3;

// A field's caption; it names the field for screen readers too (a combo box would
// otherwise be known by its current value).
QLabel *caption(const QString &text, QWidget *buddy)
{
    auto *label = new QLabel(text);
    label->setBuddy(buddy);
    QString name = text;
    buddy->setAccessibleName(name.remove(QLatin1Char('&')));
    return label;
}

} // namespace

ControlBar::ControlBar(QWidget *parent) : QWidget(parent)
{
    m_startStop = new QToolButton(this);
    m_startStop->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_startStop->setAccessibleName(tr("Start or stop the server"));
    m_startStop->setMinimumWidth(96);
    m_startStop->setAutoRaise(false);
    // One action for the button, the Server menu and F5: the same text, icon and state.
    m_startStopAction = new QAction(this);
    m_startStopAction->setShortcut(Qt::Key_F5);
    m_startStopAction->setShortcutContext(Qt::ApplicationShortcut);
    connect(m_startStopAction, &QAction::triggered, this, &ControlBar::toggle);
    m_startStop->setDefaultAction(m_startStopAction);

    m_bindAddress = new QComboBox(this);
    m_bindAddress->setEditable(true);
    m_bindAddress->setInsertPolicy(QComboBox::NoInsert);
    m_bindAddress->setMinimumContentsLength(18);
    m_bindAddress->setToolTip(tr("The address to listen on. Loopback (127.0.0.1, ::1) is reachable "
                                 "from this machine only; \"any\" and interface addresses let "
                                 "other machines connect. Any IPv4 or IPv6 literal may be typed."));
    fillBindAddresses();

    m_port = new QSpinBox(this);
    m_port->setRange(0, 65535);
    m_port->setSpecialValueText(tr("any free"));
    m_port->setToolTip(tr("TCP port to listen on (0: let the system pick a free port)"));
    m_port->setAccelerated(true);

    m_udpEcho = new QCheckBox(tr("&UDP"), this);
    m_udpEcho->setToolTip(tr("Also echo UDP datagrams (RFC 862) on the same address: each "
                             "datagram goes back to its sender, and each sending address and "
                             "port shows as a client until it is idle for the UDP idle timeout"));
    m_udpPort = new QSpinBox(this);
    m_udpPort->setAccessibleName(tr("UDP port"));
    m_udpPort->setRange(0, 65535);
    m_udpPort->setSpecialValueText(tr("any free"));
    m_udpPort->setToolTip(tr("UDP port for the datagram echo (0: let the system pick a free "
                             "port); it may be the same number as the TCP port"));
    m_udpPort->setAccelerated(true);
    m_udpIdleSeconds = new QSpinBox(this);
    m_udpIdleSeconds->setRange(1, ServerConfig::kMaxUdpIdleTimeoutMs / 1000);
    m_udpIdleSeconds->setSuffix(tr(" s"));
    m_udpIdleSeconds->setToolTip(tr("A UDP peer that sends nothing for this long is forgotten "
                                    "(its row closes with reason idle timeout)"));
    m_maxUdpPeers = new QSpinBox(this);
    m_maxUdpPeers->setRange(1, 1000000);
    m_maxUdpPeers->setAccelerated(true);
    m_maxUdpPeers->setToolTip(tr("UDP peers tracked at once; datagrams from new ones beyond this "
                                 "are dropped and logged as refused"));

    m_webSocketEcho = new QCheckBox(tr("&WebSocket"), this);
    m_webSocketEcho->setToolTip(
        tr("Also echo WebSocket messages (RFC 6455) on a port of their own, same address: "
           "ws://, or wss:// when the TLS certificate and key are set. Each message goes "
           "back as it came (text as text, binary as binary); each client shows in the table"));
    m_webSocketPort = new QSpinBox(this);
    m_webSocketPort->setAccessibleName(tr("WebSocket port"));
    m_webSocketPort->setRange(0, 65535);
    m_webSocketPort->setSpecialValueText(tr("any free"));
    m_webSocketPort->setToolTip(tr("TCP port for the WebSocket echo (0: let the system pick a "
                                   "free port); not the same as the TCP echo port"));
    m_webSocketPort->setAccelerated(true);

    m_framing = new QComboBox(this);
    m_framing->addItem(tr("stream (raw echo)"), int(FramingMode::Stream));
    m_framing->addItem(tr("until half-close"), int(FramingMode::Eof));
    m_framing->addItem(tr("line / delimiter"), int(FramingMode::Line));
    m_framing->addItem(tr("length header"), int(FramingMode::Length));
    m_framing->addItem(tr("fixed size"), int(FramingMode::Fixed));
    m_framing->setToolTip(
        tr("Where one message ends: stream echoes bytes as they arrive (RFC 862); "
           "half-close echoes one message per connection when the client shuts down its "
           "sending side; line ends each message with a delimiter; length reads a big-endian "
           "header; fixed takes blocks of one size"));

    m_framingParameter = new QStackedWidget(this);
    m_framingParameter->addWidget(new QWidget);
    m_delimiter = new QLineEdit(this);
    m_delimiter->setToolTip(tr("Message delimiter, with C escapes: \\n \\r \\t \\0 \\\\ \\xHH"));
    m_delimiter->setPlaceholderText(QStringLiteral("\\n"));
    m_framingParameter->addWidget(m_delimiter);
    m_lengthBytes = new QComboBox(this);
    m_lengthBytes->addItem(tr("2-byte header"), 2);
    m_lengthBytes->addItem(tr("4-byte header"), 4);
    m_lengthBytes->setToolTip(tr("Size of the big-endian length header before each payload"));
    m_framingParameter->addWidget(m_lengthBytes);
    m_fixedBytes = new QSpinBox(this);
    m_fixedBytes->setRange(1, 64 * 1024 * 1024);
    m_fixedBytes->setSuffix(tr(" B"));
    m_fixedBytes->setToolTip(tr("Bytes per message"));
    m_framingParameter->addWidget(m_fixedBytes);
    m_framingParameter->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);

    m_maxMessageKiB = new QSpinBox(this);
    m_maxMessageKiB->setRange(1, 1024 * 1024);
    m_maxMessageKiB->setSuffix(tr(" KiB"));
    m_maxMessageKiB->setAccelerated(true);
    m_maxMessageKiB->setToolTip(tr("Largest message accepted in the framed modes; a client "
                                   "sending a larger one is disconnected with the reason"));
    m_maxClients = new QSpinBox(this);
    m_maxClients->setRange(1, 1000000);
    m_maxClients->setAccelerated(true);
    m_maxClients->setToolTip(tr("Connections beyond this are refused at once, with a log entry"));
    m_idleTimeoutSeconds = new QSpinBox(this);
    m_idleTimeoutSeconds->setRange(0, 24 * 3600);
    m_idleTimeoutSeconds->setSpecialValueText(tr("off"));
    m_idleTimeoutSeconds->setSuffix(tr(" s"));
    m_idleTimeoutSeconds->setToolTip(tr("Disconnect a client after this long without traffic"));
    m_threads = new QSpinBox(this);
    m_threads->setRange(0, 256);
    m_threads->setSpecialValueText(tr("auto (%1)").arg(ServerConfig().effectiveThreads()));
    m_threads->setToolTip(tr("Worker threads that serve the clients, each with its own event "
                             "loop: auto is one per core but one, leaving a core to this "
                             "window and to your client"));

    // TLS: both files set make the listener speak TLS; both empty, plain TCP.
    m_tlsCertificate = new QLineEdit(this);
    m_tlsCertificate->setPlaceholderText(tr("off: plain TCP"));
    m_tlsCertificate->setClearButtonEnabled(true);
    m_tlsCertificate->setMinimumWidth(180);
    m_tlsCertificate->setToolTip(tr("Certificate file (PEM or DER) to speak TLS on the port, as "
                                    "ncat --ssl does; needs its private key too. Empty: plain "
                                    "TCP"));
    m_tlsCertificateBrowse = new QPushButton(tr("…"), this);
    m_tlsCertificateBrowse->setToolTip(tr("Choose the TLS certificate file"));
    m_tlsCertificateBrowse->setAccessibleName(tr("Choose certificate"));
    m_tlsKey = new QLineEdit(this);
    m_tlsKey->setPlaceholderText(tr("private key file"));
    m_tlsKey->setClearButtonEnabled(true);
    m_tlsKey->setMinimumWidth(180);
    m_tlsKey->setToolTip(tr("The certificate's private key (RSA, EC or DSA; PEM or DER; not "
                            "encrypted)"));
    m_tlsKeyBrowse = new QPushButton(tr("…"), this);
    m_tlsKeyBrowse->setToolTip(tr("Choose the TLS private key file"));
    m_tlsKeyBrowse->setAccessibleName(tr("Choose private key"));
    for (QPushButton *browse : {m_tlsCertificateBrowse, m_tlsKeyBrowse})
        browse->setMaximumWidth(browse->fontMetrics().horizontalAdvance(QStringLiteral("……")) + 16);
    const QString pemFilter = tr("PEM or DER files (*.pem *.crt *.cer *.der *.key);;All files (*)");
    connect(m_tlsCertificateBrowse, &QPushButton::clicked, this, [this, pemFilter] {
        chooseTlsFile(m_tlsCertificate, tr("TLS certificate"), pemFilter);
    });
    connect(m_tlsKeyBrowse, &QPushButton::clicked, this,
            [this, pemFilter] { chooseTlsFile(m_tlsKey, tr("TLS private key"), pemFilter); });
    m_tlsVersion = new QComboBox(this);
    m_tlsVersion->addItem(tr("TLS 1.2+"), int(ServerConfig::TlsVersion::Tls12));
    m_tlsVersion->addItem(tr("TLS 1.3"), int(ServerConfig::TlsVersion::Tls13));
    m_tlsVersion->setToolTip(tr("The oldest TLS version a client may use"));
    m_tlsVersion->setAccessibleName(tr("Oldest TLS version"));

    m_validation = new QLabel(this);
    m_validation->setObjectName(QStringLiteral("validationLabel"));
    m_validation->setWordWrap(true);
    m_validation->setTextFormat(Qt::PlainText);
    m_validation->setVisible(false);
    Palettes::setTone(m_validation, Palettes::Tone::Negative);

    auto *grid = new QGridLayout(this);
    grid->setContentsMargins(6, 6, 6, 2);
    grid->setHorizontalSpacing(6);
    grid->setVerticalSpacing(4);
    grid->addWidget(m_startStop, 0, 0, 2, 1);
    int column = 1;
    const auto addPair = [&](int row, const QString &text, QWidget *field, int span = 1) {
        grid->addWidget(caption(text, field), row, column, Qt::AlignRight);
        grid->addWidget(field, row, column + 1, 1, span);
        column += 1 + span;
    };
    addPair(0, tr("&Address"), m_bindAddress);
    addPair(0, tr("&Port"), m_port);
    addPair(0, tr("&Framing"), m_framing);
    grid->addWidget(m_framingParameter, 0, column++);
    column = 1;
    addPair(1, tr("Max &message"), m_maxMessageKiB);
    addPair(1, tr("Max &clients"), m_maxClients);
    addPair(1, tr("&Idle timeout"), m_idleTimeoutSeconds);
    addPair(1, tr("&Threads"), m_threads);
    // UDP echo: a block of its own after the TCP settings, over both rows.
    auto *separator = new QFrame(this);
    separator->setFrameShape(QFrame::VLine);
    separator->setFrameShadow(QFrame::Sunken);
    grid->addWidget(separator, 0, column++, 2, 1);
    auto *udp = new QGridLayout;
    udp->setHorizontalSpacing(6);
    udp->setVerticalSpacing(4);
    udp->addWidget(m_udpEcho, 0, 0, Qt::AlignRight);
    udp->addWidget(m_udpPort, 0, 1);
    udp->addWidget(caption(tr("Max pee&rs"), m_maxUdpPeers), 0, 2, Qt::AlignRight);
    udp->addWidget(m_maxUdpPeers, 0, 3);
    udp->addWidget(caption(tr("UDP i&dle"), m_udpIdleSeconds), 1, 0, Qt::AlignRight);
    udp->addWidget(m_udpIdleSeconds, 1, 1);
    grid->addLayout(udp, 0, column++, 2, 1);
    grid->setColumnStretch(column, 1);
    const int lastColumn = column;
    auto *tls = new QHBoxLayout;
    tls->setSpacing(4);
    tls->addWidget(caption(tr("TL&S certificate"), m_tlsCertificate));
    tls->addWidget(m_tlsCertificate, 1);
    tls->addWidget(m_tlsCertificateBrowse);
    tls->addSpacing(6);
    tls->addWidget(caption(tr("&Key"), m_tlsKey));
    tls->addWidget(m_tlsKey, 1);
    tls->addWidget(m_tlsKeyBrowse);
    tls->addWidget(m_tlsVersion);
    // WebSocket echo, on its own port: in this row, where wss:// takes its TLS from, and
    // under the UDP block.
    auto *webSocketSeparator = new QFrame(this);
    webSocketSeparator->setFrameShape(QFrame::VLine);
    webSocketSeparator->setFrameShadow(QFrame::Sunken);
    tls->addSpacing(6);
    tls->addWidget(webSocketSeparator);
    tls->addSpacing(6);
    tls->addWidget(m_webSocketEcho);
    tls->addWidget(m_webSocketPort);
    grid->addLayout(tls, 2, 1, 1, lastColumn);
    grid->addWidget(m_validation, 3, 1, 1, lastColumn);

    // In reading order, which is also the order Tab visits them: the TCP settings row by
    // row, the UDP block beside them, then the TLS row and the WebSocket pair at its end.
    m_fields = {m_bindAddress,
                m_port,
                m_framing,
                m_delimiter,
                m_lengthBytes,
                m_fixedBytes,
                m_maxMessageKiB,
                m_maxClients,
                m_idleTimeoutSeconds,
                m_threads,
                m_udpEcho,
                m_udpPort,
                m_maxUdpPeers,
                m_udpIdleSeconds,
                m_tlsCertificate,
                m_tlsCertificateBrowse,
                m_tlsKey,
                m_tlsKeyBrowse,
                m_tlsVersion,
                m_webSocketEcho,
                m_webSocketPort};
    QWidget *previous = m_startStop;
    for (QWidget *field : std::as_const(m_fields)) {
        setTabOrder(previous, field);
        previous = field;
    }

    const auto changed = [this] {
        updateValidation();
        emit settingsChanged();
    };
    connect(m_bindAddress, &QComboBox::currentTextChanged, this, changed);
    connect(m_framing, &QComboBox::currentIndexChanged, this, [this, changed] {
        updateFramingParameter();
        changed();
    });
    connect(m_delimiter, &QLineEdit::textChanged, this, changed);
    connect(m_lengthBytes, &QComboBox::currentIndexChanged, this, changed);
    connect(m_tlsCertificate, &QLineEdit::textChanged, this, changed);
    connect(m_tlsKey, &QLineEdit::textChanged, this, changed);
    connect(m_tlsVersion, &QComboBox::currentIndexChanged, this, changed);
    for (QSpinBox *spin :
         {m_port, m_fixedBytes, m_maxMessageKiB, m_maxClients, m_idleTimeoutSeconds, m_threads,
          m_udpPort, m_udpIdleSeconds, m_maxUdpPeers, m_webSocketPort})
        connect(spin, &QSpinBox::valueChanged, this, changed);
    connect(m_udpEcho, &QCheckBox::toggled, this, [this, changed] {
        updateUdpFields();
        changed();
    });
    connect(m_webSocketEcho, &QCheckBox::toggled, this, [this, changed] {
        updateWebSocketFields();
        changed();
    });

    setConfig(ServerConfig());
    setListening(false);
}

void ControlBar::fillBindAddresses()
{
    m_bindAddress->addItem(QStringLiteral("127.0.0.1"));
    m_bindAddress->setItemData(0, tr("Localhost, IPv4: this machine only"), Qt::ToolTipRole);
    m_bindAddress->addItem(QStringLiteral("::1"));
    m_bindAddress->setItemData(1, tr("Localhost, IPv6: this machine only"), Qt::ToolTipRole);
    m_bindAddress->addItem(QStringLiteral("any"));
    m_bindAddress->setItemData(2, tr("Every interface, IPv4 and IPv6: other machines can connect"),
                               Qt::ToolTipRole);
    for (const QNetworkInterface &interface : QNetworkInterface::allInterfaces()) {
        if (!(interface.flags() & QNetworkInterface::IsUp) ||
            (interface.flags() & QNetworkInterface::IsLoopBack))
            continue;
        for (const QNetworkAddressEntry &entry : interface.addressEntries()) {
            QHostAddress address = entry.ip();
            if (address.isLinkLocal())
                continue; // would need a scope id to bind
            address.setScopeId(QString());
            const int index = m_bindAddress->count();
            m_bindAddress->addItem(address.toString());
            m_bindAddress->setItemData(
                index,
                tr("Interface %1: other machines can connect").arg(interface.humanReadableName()),
                Qt::ToolTipRole);
        }
    }
}

ServerConfig ControlBar::config() const
{
    ServerConfig config = m_base;
    config.bindAddress = m_bindAddress->currentText().trimmed();
    config.port = quint16(m_port->value());
    config.framing.mode = FramingMode(m_framing->currentData().toInt());
    QByteArray delimiter;
    QString ignored;
    if (FramingConfig::parseDelimiter(m_delimiter->text(), &delimiter, &ignored))
        config.framing.delimiter = delimiter;
    config.framing.lengthBytes = m_lengthBytes->currentData().toInt();
    config.framing.fixedBytes = m_fixedBytes->value();
    // A limit that is not whole KiB (from the command line) is kept exact until edited.
    if (m_maxMessageKiB->value() != (m_base.maxMessageBytes + 1023) / 1024)
        config.maxMessageBytes = qint64(m_maxMessageKiB->value()) * 1024;
    config.maxClients = m_maxClients->value();
    config.idleTimeoutMs = m_idleTimeoutSeconds->value() * 1000;
    config.threads = m_threads->value();
    config.tlsCertificateFile = m_tlsCertificate->text().trimmed();
    config.tlsKeyFile = m_tlsKey->text().trimmed();
    config.tlsMinimumVersion = ServerConfig::TlsVersion(m_tlsVersion->currentData().toInt());
    config.udpEcho = m_udpEcho->isChecked();
    config.udpPort = quint16(m_udpPort->value());
    // A timeout that is not whole seconds (from the command line) is kept until edited.
    if (m_udpIdleSeconds->value() != (m_base.udpIdleTimeoutMs + 999) / 1000)
        config.udpIdleTimeoutMs = m_udpIdleSeconds->value() * 1000;
    config.maxUdpPeers = m_maxUdpPeers->value();
    config.webSocketEcho = m_webSocketEcho->isChecked();
    config.webSocketPort = quint16(m_webSocketPort->value());
    return config;
}

void ControlBar::setConfig(const ServerConfig &config)
{
    m_base = config;
    const QSignalBlocker blockAddress(m_bindAddress);
    m_bindAddress->setCurrentText(config.bindAddress);
    m_port->setValue(config.port);
    m_framing->setCurrentIndex(qMax(0, m_framing->findData(int(config.framing.mode))));
    m_delimiter->setText(FramingConfig::delimiterToString(config.framing.delimiter));
    m_lengthBytes->setCurrentIndex(qMax(0, m_lengthBytes->findData(config.framing.lengthBytes)));
    const qint64 fixedBytes = config.framing.fixedBytes > 0 ? config.framing.fixedBytes : 64;
    m_fixedBytes->setValue(int(qMin<qint64>(fixedBytes, m_fixedBytes->maximum())));
    m_maxMessageKiB->setValue(
        int(qMin<qint64>((config.maxMessageBytes + 1023) / 1024, m_maxMessageKiB->maximum())));
    m_maxClients->setValue(config.maxClients);
    m_idleTimeoutSeconds->setValue((config.idleTimeoutMs + 999) / 1000);
    m_threads->setValue(config.threads);
    m_tlsCertificate->setText(config.tlsCertificateFile);
    m_tlsKey->setText(config.tlsKeyFile);
    m_tlsVersion->setCurrentIndex(qMax(0, m_tlsVersion->findData(int(config.tlsMinimumVersion))));
    {
        const QSignalBlocker blockUdp(m_udpEcho);
        m_udpEcho->setChecked(config.udpEcho);
    }
    m_udpPort->setValue(config.udpPort);
    m_udpIdleSeconds->setValue((config.udpIdleTimeoutMs + 999) / 1000);
    m_maxUdpPeers->setValue(qMin(config.maxUdpPeers, m_maxUdpPeers->maximum()));
    updateUdpFields();
    {
        const QSignalBlocker blockWebSocket(m_webSocketEcho);
        m_webSocketEcho->setChecked(config.webSocketEcho);
    }
    m_webSocketPort->setValue(config.webSocketPort);
    updateWebSocketFields();
    updateFramingParameter();
    updateValidation();
}

QString ControlBar::validationError() const
{
    QHostAddress address;
    QString error;
    if (!ServerConfig::resolveBindAddress(m_bindAddress->currentText().trimmed(), &address, &error))
        return tr("Address: %1").arg(error);
    const FramingMode mode = FramingMode(m_framing->currentData().toInt());
    if (mode == FramingMode::Line) {
        QByteArray delimiter;
        if (!FramingConfig::parseDelimiter(m_delimiter->text(), &delimiter, &error))
            return tr("Delimiter: %1").arg(error);
    }
    const QString configError = config().validate();
    if (!configError.isEmpty())
        return configError;
    if (m_webSocketEcho->isChecked() && m_webSocketPort->value() != 0 &&
        m_webSocketPort->value() == m_port->value())
        return tr("WebSocket port: %1 is the TCP echo port; choose another, or 0 for any free")
            .arg(m_port->value());
    // What can be seen without reading them; start() checks their contents.
    for (const QLineEdit *edit : {m_tlsCertificate, m_tlsKey}) {
        const QString path = edit->text().trimmed();
        const QFileInfo file(path);
        if (path.isEmpty() || (file.isFile() && file.isReadable()))
            continue;
        const QString what = edit == m_tlsKey ? tr("TLS key") : tr("TLS certificate");
        return !file.exists() ? tr("%1: \"%2\" does not exist").arg(what, path)
               : file.isDir() ? tr("%1: \"%2\" is a folder, not a file").arg(what, path)
                              : tr("%1: \"%2\" cannot be read").arg(what, path);
    }
    return QString();
}

void ControlBar::chooseTlsFile(QLineEdit *edit, const QString &title, const QString &filter)
{
    QString start = edit->text().trimmed();
    if (start.isEmpty())
        start = QFileInfo(m_tlsCertificate->text().trimmed()).path(); // the key is often beside
    const QString path = QFileDialog::getOpenFileName(this, title, start, filter);
    if (!path.isEmpty())
        edit->setText(path);
}

bool ControlBar::bindsBeyondLoopback() const
{
    QHostAddress address;
    QString error;
    if (!ServerConfig::resolveBindAddress(m_bindAddress->currentText().trimmed(), &address, &error))
        return false;
    return !ServerConfig::isLoopback(address);
}

void ControlBar::setListening(bool listening)
{
    m_listening = listening;
    m_startStopAction->setText(listening ? tr("S&top") : tr("S&tart"));
    m_startStopAction->setIcon(QIcon::fromTheme(
        listening ? QStringLiteral("media-playback-stop") : QStringLiteral("media-playback-start"),
        style()->standardIcon(listening ? QStyle::SP_MediaStop : QStyle::SP_MediaPlay)));
    m_startStopAction->setToolTip(listening ? tr("Stop listening and close every client (F5)")
                                            : tr("Start listening with these settings (F5)"));
    for (QWidget *field : std::as_const(m_fields)) {
        field->setEnabled(!listening);
        if (!m_idleStatusTips.contains(field))
            m_idleStatusTips.insert(field, field->statusTip());
        field->setStatusTip(listening ? tr("Stop the server to change its settings")
                                      : m_idleStatusTips.value(field));
    }
    updateUdpFields();
    updateWebSocketFields();
    updateValidation();
}

QList<QWidget *> ControlBar::fieldsInTabOrder() const
{
    QList<QWidget *> fields{m_startStop};
    for (QWidget *field : m_fields) {
        if (field->isVisibleTo(this) && field->isEnabled())
            fields.append(field);
    }
    return fields;
}

void ControlBar::toggle()
{
    if (m_listening) {
        emit stopRequested();
        return;
    }
    updateValidation();
    if (validationError().isEmpty())
        emit startRequested();
}

void ControlBar::updateFramingParameter()
{
    switch (FramingMode(m_framing->currentData().toInt())) {
    case FramingMode::Line:
        m_framingParameter->setCurrentIndex(kFramingParameterDelimiter);
        break;
    case FramingMode::Length:
        m_framingParameter->setCurrentIndex(kFramingParameterLength);
        break;
    case FramingMode::Fixed:
        m_framingParameter->setCurrentIndex(kFramingParameterFixed);
        break;
    case FramingMode::Stream:
    case FramingMode::Eof:
        m_framingParameter->setCurrentIndex(kFramingParameterNone);
        break;
    }
}

void ControlBar::updateUdpFields()
{
    const bool editable = !m_listening && m_udpEcho->isChecked();
    for (QSpinBox *field : {m_udpPort, m_udpIdleSeconds, m_maxUdpPeers})
        field->setEnabled(editable);
}

void ControlBar::updateWebSocketFields()
{
    m_webSocketPort->setEnabled(!m_listening && m_webSocketEcho->isChecked());
}

void ControlBar::updateValidation()
{
    const QString error = m_listening ? QString() : validationError();
    m_validation->setText(error.isEmpty() ? QString() : tr("Cannot start: %1").arg(error));
    m_validation->setVisible(!error.isEmpty());
    m_startStopAction->setEnabled(m_listening || error.isEmpty());
}

} // namespace Echoscope
