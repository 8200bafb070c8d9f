#pragma once

#include "serverconfig.h"

#include <QHash>
#include <QWidget>

QT_BEGIN_NAMESPACE
class QAction;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QStackedWidget;
class QToolButton;
QT_END_NAMESPACE

namespace Echoscope {

// The row of server settings above the dashboard: bind address, port, UDP echo with its
// port and limits, WebSocket echo with its port, framing with its parameter, limits and threads,
// and the one Start/Stop toggle. Invalid values are refused here, with the reason next to the
// field, before the engine sees them.
class ControlBar : public QWidget
{
    Q_OBJECT

public:
    explicit ControlBar(QWidget *parent = nullptr);

    // The engine settings as typed; valid only if validationError() is empty.
    ServerConfig config() const;
    // Shows these settings (fields the bar does not have are kept for config()).
    void setConfig(const ServerConfig &config);
    // Empty when every field is valid, else a sentence naming the field.
    QString validationError() const;

    // While listening the toggle reads Stop and the fields are locked (the engine
    // takes its settings at start).
    void setListening(bool listening);
    bool isListening() const { return m_listening; }
    // True when the chosen address is not a loopback one: other machines can connect.
    bool bindsBeyondLoopback() const;

    // For tests and the window's keyboard shortcut.
    QToolButton *startStopButton() const { return m_startStop; }
    // Start or Stop (F5): the button's action, for the window's menu too.
    QAction *startStopAction() const { return m_startStopAction; }
    // Start/Stop and the fields in the order Tab visits them (the order they read in),
    // those shown and enabled now.
    QList<QWidget *> fieldsInTabOrder() const;
    QComboBox *bindAddressCombo() const { return m_bindAddress; }
    QSpinBox *portSpin() const { return m_port; }
    QSpinBox *threadsSpin() const { return m_threads; }
    QComboBox *framingCombo() const { return m_framing; }
    QLineEdit *delimiterEdit() const { return m_delimiter; }
    QLineEdit *tlsCertificateEdit() const { return m_tlsCertificate; }
    QLineEdit *tlsKeyEdit() const { return m_tlsKey; }
    QComboBox *tlsVersionCombo() const { return m_tlsVersion; }
    QCheckBox *udpCheckBox() const { return m_udpEcho; }
    QSpinBox *udpPortSpin() const { return m_udpPort; }
    QSpinBox *udpIdleTimeoutSpin() const { return m_udpIdleSeconds; }
    QSpinBox *maxUdpPeersSpin() const { return m_maxUdpPeers; }
    QCheckBox *webSocketCheckBox() const { return m_webSocketEcho; }
    QSpinBox *webSocketPortSpin() const { return m_webSocketPort; }

signals:
    // The user asked to start (the fields are valid) or to stop.
    void startRequested();
    void stopRequested();
    // Any field changed (for the exposure warning and for saving settings).
    void settingsChanged();

private:
    void toggle();
    void updateFramingParameter();
    void updateValidation();
    void fillBindAddresses();
    void chooseTlsFile(QLineEdit *edit, const QString &title, const QString &filter);
    void updateUdpFields();
    void updateWebSocketFields();

    ServerConfig m_base; // what setConfig() gave, for the fields not shown here
    bool m_listening = false;

    QToolButton *m_startStop;
    QAction *m_startStopAction;
    QComboBox *m_bindAddress;
    QSpinBox *m_port;
    QComboBox *m_framing;
    QStackedWidget *m_framingParameter;
    QLineEdit *m_delimiter;
    QComboBox *m_lengthBytes;
    QSpinBox *m_fixedBytes;
    QSpinBox *m_maxMessageKiB;
    QSpinBox *m_maxClients;
    QSpinBox *m_idleTimeoutSeconds;
    QSpinBox *m_threads;
    QLineEdit *m_tlsCertificate;
    QPushButton *m_tlsCertificateBrowse;
    QLineEdit *m_tlsKey;
    QPushButton *m_tlsKeyBrowse;
    QComboBox *m_tlsVersion;
    QCheckBox *m_udpEcho;
    QSpinBox *m_udpPort;
    QSpinBox *m_udpIdleSeconds;
    QSpinBox *m_maxUdpPeers;
    QCheckBox *m_webSocketEcho;
    QSpinBox *m_webSocketPort;
    QLabel *m_validation;
    QList<QWidget *> m_fields;
    QHash<QWidget *, QString> m_idleStatusTips; // each field's own, while not listening
};

} // namespace Echoscope
