// The metrics endpoint from the dashboard: Preferences turn it on and off, the status
// bar shows where it is, failures land in the error banner, and a real scrape
// (QNetworkAccessManager) sees the server the window runs.
#include "controlbar.h"
#include "echoserver.h"
#include "mainwindow.h"
#include "metricsexporter.h"
#include "preferencesdialog.h"
#include "errortext.h"

#include <QApplication>
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

QByteArray scrape(const QUrl &url, int *status = nullptr)
{
    QNetworkAccessManager manager;
    std::unique_ptr<QNetworkReply> reply(manager.get(QNetworkRequest(url)));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    if (!reply->isFinished() && !finished.wait(kTimeoutMs))
        return QByteArray();
    if (status)
        *status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    return reply->readAll();
}

} // namespace

class tst_MetricsDashboard : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void preferencesTurnTheEndpointOnAndOff();
    void invalidAddressKeepsOkDisabled();
    void portInUseIsShownInTheBanner();
    void commandLineOverrideIsNotSaved();
    void exposureWarningForMetricsBeyondLoopback();

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

void tst_MetricsDashboard::portInUseIsShownInTheBanner()
{
    QTcpServer occupier;
    QVERIFY(occupier.listen(QHostAddress::LocalHost, 0));
    Dashboard d(settingsPath());
    QVERIFY(!d.window.setMetricsOverride(QStringLiteral("127.0.0.1"), occupier.serverPort()));
    QVERIFY(!d.window.metricsExporter()->isListening());
    const QString error = d.window.errorText();
    QVERIFY2(error.contains(u"metrics"), qPrintable(error));
    QVERIFY2(error.contains(QStringLiteral("127.0.0.1 port %1").arg(occupier.serverPort())),
             qPrintable(error));
    const QString inUse =
        EchoTest::tcpPortInUseText(QHostAddress::LocalHost, occupier.serverPort());
    QVERIFY(!inUse.isEmpty());
    QVERIFY2(error.contains(inUse), qPrintable(error));
    QCOMPARE(d.window.metricsLabel()->text(), QStringLiteral("Metrics: not serving"));
    // Starting the echo server does not hide it: the endpoint is still not serving.
    d.window.controlBar()->portSpin()->setValue(0);
    QVERIFY(d.window.startServer());
    QCOMPARE(d.window.errorText(), error);

    // A free port clears the error.
    QVERIFY(d.window.setMetricsOverride(QStringLiteral("127.0.0.1"), 0));
    QVERIFY(d.window.errorText().isEmpty());
    QVERIFY(d.window.metricsExporter()->isListening());
}

void tst_MetricsDashboard::commandLineOverrideIsNotSaved()
{
    {
        Dashboard d(settingsPath());
        QVERIFY(d.window.setMetricsOverride(QStringLiteral("::1"), 0));
        QCOMPARE(d.window.metricsExporter()->serverAddress(),
                 QHostAddress(QHostAddress::LocalHostIPv6));
        int status = 0;
        scrape(d.window.metricsExporter()->url(), &status);
        QCOMPARE(status, 200);
        // Preferences show what serves now.
        QVERIFY(editPreferences(d.window, [](PreferencesDialog *dialog) {
                    QVERIFY(dialog->metricsBox()->isChecked());
                    QCOMPARE(dialog->metricsAddressBox()->currentText(), QStringLiteral("::1"));
                    dialog->reject();
                }) == false);
        d.window.close();
    }
    QSettings saved(settingsPath(), QSettings::IniFormat);
    QCOMPARE(saved.value(QStringLiteral("metrics/enabled")).toBool(), false);
    Dashboard again(settingsPath());
    QVERIFY(!again.window.metricsExporter()->isListening());
}

void tst_MetricsDashboard::exposureWarningForMetricsBeyondLoopback()
{
    Dashboard d(settingsPath());
    QVERIFY(!d.window.isExposureWarningShown());
    QVERIFY(d.window.setMetricsOverride(QStringLiteral("any4"), 0));
    QVERIFY(d.window.isExposureWarningShown());
    // The URL still names an address this machine can use.
    QCOMPARE(d.window.metricsExporter()->url().host(), QStringLiteral("127.0.0.1"));
    QVERIFY(d.window.setMetricsOverride(QStringLiteral("127.0.0.1"), 0));
    QVERIFY(!d.window.isExposureWarningShown());
}

QTEST_MAIN(tst_MetricsDashboard)
#include "tst_metricsdashboard.moc"
