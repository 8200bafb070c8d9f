// The metrics endpoint and the control API from the dashboard: Preferences turn them on
// and off, the status bar shows where they are (and copies the API's token, which it
// never shows), failures land in the error banner, the command line's override is not
// saved, and real requests (QNetworkAccessManager) reach the server the window runs.
#include "controlapi.h"
#include "controlapicontroller.h"
#include "controlbar.h"
#include "echoserver.h"
#include "mainwindow.h"
#include "metricsexporter.h"
#include "preferencesdialog.h"
#include "errortext.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QGroupBox>
#include <QLabel>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStyle>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <functional>
#include <memory>

using namespace Echoscope;

namespace {

constexpr int kTimeoutMs = 10000;

struct Dashboard
{
    explicit Dashboard(const QString &settingsPath)
        : settings(settingsPath, QSettings::IniFormat), window(&server, &settings)
    {
        window.resize(1280, 820);
        window.show();
    }

    QSettings settings;
    EchoServer server;
    MainWindow window;
};

// Opens Preferences, lets `edit` change the fields, and clicks OK (unless `edit` closed
// the dialog, or OK is disabled: then it cancels). Returns whether OK was clicked.
bool editPreferences(MainWindow &window, const std::function<void(PreferencesDialog *)> &edit)
{
    bool answered = false;
    QTimer poll;
    poll.setInterval(10);
    QObject::connect(&poll, &QTimer::timeout, &poll, [&] {
        auto *dialog = qobject_cast<PreferencesDialog *>(QApplication::activeModalWidget());
        if (!dialog)
            return;
        poll.stop();
        edit(dialog);
        if (!dialog->isVisible())
            return;
        auto *ok = dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
        if (ok->isEnabled()) {
            QTest::mouseClick(ok, Qt::LeftButton);
            answered = true;
        } else {
            dialog->reject();
        }
    });
    poll.start();
    window.editPreferences(); // modal: returns once the dialog is answered
    return answered;
}

// A request (GET unless `verb` says otherwise, with a bearer token if one is given): the
// body, the HTTP status in *status (0: no answer) and the network error in *error.
QByteArray request(const QUrl &url, int *status = nullptr, const QByteArray &verb = "GET",
                   const QString &token = QString(), QNetworkReply::NetworkError *error = nullptr)
{
    QNetworkAccessManager manager;
    QNetworkRequest request(url);
    if (!token.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + token.toLatin1());
    std::unique_ptr<QNetworkReply> reply(manager.sendCustomRequest(request, verb));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    if (!reply->isFinished() && !finished.wait(kTimeoutMs))
        return QByteArray();
    if (status)
        *status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (error)
        *error = reply->error();
    return reply->readAll();
}

QByteArray scrape(const QUrl &url, int *status = nullptr)
{
    return request(url, status);
}

QUrl apiUrl(const QUrl &base, const QString &path)
{
    QUrl url = base;
    url.setPath(url.path() + path);
    return url;
}

// The token --control-port hands the window in these tests.
const QString kOverrideToken = QStringLiteral("an-override-token-for-this-run");

// The two endpoints the window runs beside it, as the tests that treat them alike see
// them: the metrics endpoint (--metrics-port) and the control API (--control-port).
struct Endpoint
{
    QString settingsGroup;
    QString named;      // how the error banner names it
    QString notServing; // its status bar label when it is on but not serving
    // The command line's override for this run (the control API's with kOverrideToken).
    bool (*setOverride)(MainWindow &window, const QString &address, quint16 port);
    bool (*isListening)(const MainWindow &window);
    QHostAddress (*address)(const MainWindow &window);
    // A URL that answers a GET with 200 while it serves.
    QUrl (*probe)(const MainWindow &window);
    QGroupBox *(*box)(const PreferencesDialog *dialog);
    QComboBox *(*addressBox)(const PreferencesDialog *dialog);
};

void addEndpointRows()
{
    QTest::addColumn<int>("endpoint");
    QTest::newRow("metrics") << 0;
    QTest::newRow("control API") << 1;
}

const Endpoint &endpoint(int index)
{
    static const Endpoint endpoints[] = {
        {
            QStringLiteral("metrics"),
            QStringLiteral("metrics endpoint"),
            QStringLiteral("Metrics: not serving"),
            [](MainWindow &window, const QString &address, quint16 port) {
                return window.setMetricsOverride(address, port);
            },
            [](const MainWindow &window) { return window.metricsExporter()->isListening(); },
            [](const MainWindow &window) { return window.metricsExporter()->serverAddress(); },
            [](const MainWindow &window) { return window.metricsExporter()->url(); },
            [](const PreferencesDialog *dialog) { return dialog->metricsBox(); },
            [](const PreferencesDialog *dialog) { return dialog->metricsAddressBox(); },
        },
        {
            QStringLiteral("control"),
            QStringLiteral("control API"),
            QStringLiteral("Control API: not listening"),
            [](MainWindow &window, const QString &address, quint16 port) {
                return window.setControlOverride(address, port, kOverrideToken) &&
                       window.controlApi()->token() == kOverrideToken;
            },
            [](const MainWindow &window) { return window.controlApi()->isListening(); },
            [](const MainWindow &window) { return window.controlApi()->serverAddress(); },
            [](const MainWindow &window) {
                return apiUrl(window.controlApi()->url(), QStringLiteral("/server"));
            },
            [](const PreferencesDialog *dialog) { return dialog->controlBox(); },
            [](const PreferencesDialog *dialog) { return dialog->controlAddressBox(); },
        },
    };
    return endpoints[index];
}

} // namespace

class tst_MetricsDashboard : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void preferencesTurnTheEndpointOnAndOff();
    void invalidAddressKeepsOkDisabled();

    // Each for the metrics endpoint and for the control API (rows).
    void portInUseIsShownInTheBanner_data();
    void portInUseIsShownInTheBanner();
    void commandLineOverrideIsNotSaved_data();
    void commandLineOverrideIsNotSaved();
    void exposureWarningBeyondLoopback_data();
    void exposureWarningBeyondLoopback();

    void preferencesTurnTheControlApiOnAndOff();
    void controlApiTokenFileFromPreferences();
    void unreadableTokenFileKeepsOkDisabled();
    void endpointFieldsLineUp();

private:
    QString settingsPath() const { return m_dir->filePath(QStringLiteral("echoscope.ini")); }
    std::unique_ptr<QTemporaryDir> m_dir;
};

void tst_MetricsDashboard::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void tst_MetricsDashboard::preferencesTurnTheEndpointOnAndOff()
{
    {
        Dashboard d(settingsPath());
        MetricsExporter *metrics = d.window.metricsExporter();
        QVERIFY(!metrics->isListening()); // off by default
        QVERIFY(d.window.metricsLabel()->isHidden());

        QVERIFY(editPreferences(d.window, [](PreferencesDialog *dialog) {
            QVERIFY(!dialog->metricsBox()->isChecked());
            dialog->metricsBox()->setChecked(true);
            dialog->metricsPortBox()->setValue(0);
            dialog->metricsAddressBox()->setCurrentText(QStringLiteral("127.0.0.1"));
        }));
        QVERIFY(metrics->isListening());
        const QUrl url = metrics->url();
        QCOMPARE(url.host(), QStringLiteral("127.0.0.1"));
        QVERIFY(d.window.metricsLabel()->isVisible());
        QVERIFY2(d.window.metricsLabel()->text().contains(url.toString()),
                 qPrintable(d.window.metricsLabel()->text()));

        int status = 0;
        QByteArray body = scrape(url, &status);
        QCOMPARE(status, 200);
        QVERIFY2(body.contains("\nechoscope_listening 0\n"), body.constData());

        // Start the server from the window: the endpoint sees it.
        d.window.controlBar()->portSpin()->setValue(0);
        QVERIFY(d.window.startServer());
        body = scrape(url);
        QVERIFY2(body.contains("\nechoscope_listening 1\n"), body.constData());
        QVERIFY2(body.contains(QStringLiteral("port=\"%1\"").arg(d.server.serverPort()).toUtf8()),
                 body.constData());

        // Accepting Preferences unchanged leaves the endpoint (and its port) alone.
        QVERIFY(editPreferences(d.window, [](PreferencesDialog *) {}));
        QCOMPARE(metrics->url(), url);
        d.window.close();
    }
    // Remembered: the next window serves again, on the settings' address.
    Dashboard again(settingsPath());
    QVERIFY(again.window.metricsExporter()->isListening());
    QCOMPARE(again.window.metricsExporter()->serverAddress(),
             QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(scrape(again.window.metricsExporter()->url()).isEmpty(), false);

    // And Preferences turn it off.
    QVERIFY(editPreferences(again.window, [](PreferencesDialog *dialog) {
        QVERIFY(dialog->metricsBox()->isChecked());
        dialog->metricsBox()->setChecked(false);
    }));
    QVERIFY(!again.window.metricsExporter()->isListening());
    QVERIFY(again.window.metricsLabel()->isHidden());
}

void tst_MetricsDashboard::invalidAddressKeepsOkDisabled()
{
    Dashboard d(settingsPath());
    bool okEnabled = true;
    QVERIFY(!editPreferences(d.window, [&](PreferencesDialog *dialog) {
        dialog->metricsBox()->setChecked(true);
        dialog->metricsAddressBox()->setCurrentText(QStringLiteral("nowhere"));
        okEnabled =
            dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->isEnabled();
        const QList<QLabel *> labels = dialog->metricsBox()->findChildren<QLabel *>();
        bool named = false;
        for (const QLabel *label : labels)
            named = named || (label->isVisible() && label->text().contains(u"\"nowhere\""));
        QVERIFY(named);
    }));
    QVERIFY(!okEnabled);
    QVERIFY(!d.window.metricsExporter()->isListening());
}

// Preferences turn the control API on: it listens on loopback, the status bar says where
// (never the token, which its menu copies), a real GET answers, a change with the copied
// token is taken and one without is refused; remembered by the next window; turned off,
// its port refuses connections.
void tst_MetricsDashboard::preferencesTurnTheControlApiOnAndOff()
{
    QUrl url;
    {
        Dashboard d(settingsPath());
        ControlApi *api = d.window.controlApi();
        QVERIFY(!api->isListening()); // off by default
        QVERIFY(d.window.controlApiLabel()->isHidden());

        QVERIFY(editPreferences(d.window, [](PreferencesDialog *dialog) {
            QVERIFY(!dialog->controlBox()->isChecked());
            QCOMPARE(dialog->controlAddressBox()->currentText(), QStringLiteral("127.0.0.1"));
            QVERIFY(dialog->controlTokenFileEdit()->text().isEmpty()); // a generated token
            dialog->controlBox()->setChecked(true);
            dialog->controlPortBox()->setValue(0);
        }));
        QVERIFY(api->isListening());
        QCOMPARE(api->serverAddress(), QHostAddress(QHostAddress::LocalHost));
        url = api->url();
        QLabel *label = d.window.controlApiLabel();
        QVERIFY(label->isVisible());
        QVERIFY2(label->text().contains(url.toString()), qPrintable(label->text()));
        QVERIFY(!label->text().contains(api->token()));
        QVERIFY(!label->toolTip().contains(api->token()));

        d.window.controlBar()->portSpin()->setValue(0);
        QVERIFY(d.window.startServer());
        int status = 0;
        const QJsonObject server =
            QJsonDocument::fromJson(request(apiUrl(api->url(), QStringLiteral("/server")), &status))
                .object();
        QCOMPARE(status, 200);
        // The server this window runs.
        QCOMPARE(server.value(QStringLiteral("state")).toString(), QStringLiteral("listening"));
        QCOMPARE(server.value(QStringLiteral("listeners"))
                     .toObject()
                     .value(QStringLiteral("tcp"))
                     .toObject()
                     .value(QStringLiteral("port"))
                     .toInt(),
                 int(d.server.serverPort()));

        // The token, as the status bar's menu copies it.
        QApplication::clipboard()->clear();
        d.window.controlApiController()->copyTokenAction()->trigger();
        const QString token = QApplication::clipboard()->text();
        QCOMPARE(token, api->token());
        QVERIFY(token.size() >= ControlApi::kMinTokenLength);
        request(apiUrl(api->url(), QStringLiteral("/faults")), &status, "DELETE");
        QCOMPARE(status, 401);
        request(apiUrl(api->url(), QStringLiteral("/faults")), &status, "DELETE", token);
        QVERIFY2(status >= 200 && status < 300, qPrintable(QString::number(status)));
        d.window.close();
    }
    // Remembered: the next window listens again, on loopback.
    Dashboard again(settingsPath());
    QVERIFY(again.window.controlApi()->isListening());
    QCOMPARE(again.window.controlApi()->serverAddress(), QHostAddress(QHostAddress::LocalHost));

    // Turned off: nothing listens there any more.
    const QUrl last = again.window.controlApi()->url();
    QVERIFY(editPreferences(again.window, [](PreferencesDialog *dialog) {
        QVERIFY(dialog->controlBox()->isChecked());
        dialog->controlBox()->setChecked(false);
    }));
    QVERIFY(!again.window.controlApi()->isListening());
    QVERIFY(again.window.controlApiLabel()->isHidden());
    int status = -1;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    request(apiUrl(last, QStringLiteral("/server")), &status, "GET", QString(), &error);
    QCOMPARE(status, 0);
    QCOMPARE(error, QNetworkReply::ConnectionRefusedError);
}

// A token file named in Preferences is the token changes need.
void tst_MetricsDashboard::controlApiTokenFileFromPreferences()
{
    const QString path = m_dir->filePath(QStringLiteral("token"));
    const QByteArray token = "a-token-for-the-dashboard-test";
    {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(token + '\n');
        QVERIFY(file.setPermissions(QFile::ReadOwner | QFile::WriteOwner));
    }
    Dashboard d(settingsPath());
    QVERIFY(editPreferences(d.window, [&](PreferencesDialog *dialog) {
        dialog->controlBox()->setChecked(true);
        dialog->controlPortBox()->setValue(0);
        dialog->controlTokenFileEdit()->setText(path);
        QVERIFY(dialog->controlNote()->isHidden());
    }));
    ControlApi *api = d.window.controlApi();
    QVERIFY(api->isListening());
    QCOMPARE(api->token(), QString::fromLatin1(token));
    int status = 0;
    request(apiUrl(api->url(), QStringLiteral("/faults")), &status, "DELETE",
            QString::fromLatin1(token));
    QVERIFY2(status >= 200 && status < 300, qPrintable(QString::number(status)));
    QSettings saved(settingsPath(), QSettings::IniFormat);
    QCOMPARE(saved.value(QStringLiteral("control/tokenFile")).toString(), path);
}

// A token file others can read is refused in the dialog, which names it in a sentence of
// its own (the engine's clause, capitalised and ended): OK stays off. A bind address that
// is not one is said the same way.
void tst_MetricsDashboard::unreadableTokenFileKeepsOkDisabled()
{
    const QString path = m_dir->filePath(QStringLiteral("open-token"));
    {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("a-token-that-others-can-read\n");
        QVERIFY(file.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ReadOther));
    }
    Dashboard d(settingsPath());
    bool okEnabled = true;
    QVERIFY(!editPreferences(d.window, [&](PreferencesDialog *dialog) {
        dialog->controlBox()->setChecked(true);
        dialog->controlTokenFileEdit()->setText(path);
        okEnabled =
            dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->isEnabled();
        QVERIFY(dialog->controlNote()->isVisible());
        const QString note = dialog->controlNote()->text();
        QVERIFY2(note.startsWith(
                     QStringLiteral("The control token file \"%1\" has mode 0604: ").arg(path)),
                 qPrintable(note));
        QVERIFY2(note.endsWith(QStringLiteral("(chmod 600 \"%1\").").arg(path)), qPrintable(note));
        dialog->controlTokenFileEdit()->clear();
        QVERIFY(dialog->controlNote()->isHidden());
        dialog->controlAddressBox()->setEditText(QStringLiteral("nowhere"));
        const QString address = dialog->controlNote()->text();
        QVERIFY2(address.startsWith(QStringLiteral("Bind address \"nowhere\" is not an IP "
                                                   "address; ")) &&
                     address.endsWith(QLatin1Char('.')),
                 qPrintable(address));
    }));
    QVERIFY(!okEnabled);
    QVERIFY(!d.window.controlApi()->isListening());
}

void tst_MetricsDashboard::portInUseIsShownInTheBanner_data()
{
    addEndpointRows();
}

// A port it cannot have: the banner names the endpoint, the address, the port and the
// system's reason, and keeps saying so while the echo server starts; a free port clears it.
void tst_MetricsDashboard::portInUseIsShownInTheBanner()
{
    QFETCH(int, endpoint);
    const Endpoint &e = ::endpoint(endpoint);
    QTcpServer occupier;
    QVERIFY(occupier.listen(QHostAddress::LocalHost, 0));
    Dashboard d(settingsPath());
    QVERIFY(!e.setOverride(d.window, QStringLiteral("127.0.0.1"), occupier.serverPort()));
    QVERIFY(!e.isListening(d.window));
    const QString error = d.window.errorText();
    QVERIFY2(error.contains(e.named), qPrintable(error));
    QVERIFY2(error.contains(QStringLiteral("127.0.0.1 port %1").arg(occupier.serverPort())),
             qPrintable(error));
    const QString inUse =
        EchoTest::tcpPortInUseText(QHostAddress::LocalHost, occupier.serverPort());
    QVERIFY(!inUse.isEmpty());
    QVERIFY2(error.contains(inUse), qPrintable(error));
    const QLabel *label = endpoint == 0 ? d.window.metricsLabel() : d.window.controlApiLabel();
    QCOMPARE(label->text(), e.notServing);
    // The banner composes the engine's clause into its sentence; the label's tooltip shows
    // the clause on its own, as a sentence.
    QVERIFY2(error.startsWith(QStringLiteral("Could not start the ") + e.named +
                              QStringLiteral(": cannot listen for ")),
             qPrintable(error));
    const QString tip = label->toolTip();
    QVERIFY2(tip.startsWith(QStringLiteral("Cannot listen for ")) && tip.contains(inUse) &&
                 tip.endsWith(QLatin1Char('.')),
             qPrintable(tip));
    // Starting the echo server does not hide it: the endpoint is still not serving.
    d.window.controlBar()->portSpin()->setValue(0);
    QVERIFY(d.window.startServer());
    QCOMPARE(d.window.errorText(), error);

    // A free port clears the error.
    QVERIFY(e.setOverride(d.window, QStringLiteral("127.0.0.1"), 0));
    QVERIFY(d.window.errorText().isEmpty());
    QVERIFY(e.isListening(d.window));
}

void tst_MetricsDashboard::commandLineOverrideIsNotSaved_data()
{
    addEndpointRows();
}

// The command line's override serves this run, shows in Preferences, and is not saved.
void tst_MetricsDashboard::commandLineOverrideIsNotSaved()
{
    QFETCH(int, endpoint);
    const Endpoint &e = ::endpoint(endpoint);
    {
        Dashboard d(settingsPath());
        QVERIFY(e.setOverride(d.window, QStringLiteral("::1"), 0));
        QCOMPARE(e.address(d.window), QHostAddress(QHostAddress::LocalHostIPv6));
        int status = 0;
        request(e.probe(d.window), &status);
        QCOMPARE(status, 200);
        // Preferences show what serves now.
        QVERIFY(editPreferences(d.window, [&e](PreferencesDialog *dialog) {
                    QVERIFY(e.box(dialog)->isChecked());
                    QCOMPARE(e.addressBox(dialog)->currentText(), QStringLiteral("::1"));
                    dialog->reject();
                }) == false);
        d.window.close();
    }
    QSettings saved(settingsPath(), QSettings::IniFormat);
    QCOMPARE(saved.value(e.settingsGroup + QStringLiteral("/enabled")).toBool(), false);
    Dashboard again(settingsPath());
    QVERIFY(!e.isListening(again.window));
}

void tst_MetricsDashboard::exposureWarningBeyondLoopback_data()
{
    addEndpointRows();
}

void tst_MetricsDashboard::exposureWarningBeyondLoopback()
{
    QFETCH(int, endpoint);
    const Endpoint &e = ::endpoint(endpoint);
    Dashboard d(settingsPath());
    QVERIFY(!d.window.isExposureWarningShown());
    QVERIFY(e.setOverride(d.window, QStringLiteral("any4"), 0));
    QVERIFY(d.window.isExposureWarningShown());
    // The URL still names an address this machine can use.
    QCOMPARE(e.probe(d.window).host(), QStringLiteral("127.0.0.1"));
    QVERIFY(e.setOverride(d.window, QStringLiteral("127.0.0.1"), 0));
    QVERIFY(!d.window.isExposureWarningShown());
}

// As a user sees the dialog: the two endpoints' fields start at the same x, and the token
// field's placeholder is whole.
void tst_MetricsDashboard::endpointFieldsLineUp()
{
    PreferencesDialog dialog{DashboardSettings()};
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    dialog.metricsBox()->setChecked(true);
    dialog.controlBox()->setChecked(true);
    const auto left = [&dialog](QWidget *field) { return field->mapTo(&dialog, QPoint()).x(); };
    QCOMPARE(left(dialog.controlPortBox()), left(dialog.metricsPortBox()));
    QCOMPARE(left(dialog.controlAddressBox()), left(dialog.metricsAddressBox()));
    QCOMPARE(left(dialog.controlTokenFileEdit()), left(dialog.controlPortBox()));
    QLineEdit *token = dialog.controlTokenFileEdit();
    QVERIFY(!token->placeholderText().isEmpty());
    // The text's room: the field less its frame and text margins (and the clear button's
    // room, kept even while empty).
    const int room =
        token->width() - 2 * token->style()->pixelMetric(QStyle::PM_DefaultFrameWidth) -
        token->textMargins().left() - token->textMargins().right() - 2 * 2 - token->height();
    QVERIFY2(token->fontMetrics().horizontalAdvance(token->placeholderText()) <= room,
             qPrintable(QStringLiteral("%1 px of text in %2 px")
                            .arg(token->fontMetrics().horizontalAdvance(token->placeholderText()))
                            .arg(room)));
}

QTEST_MAIN(tst_MetricsDashboard)
#include "tst_metricsdashboard.moc"
