#pragma once

#include "headlessoptions.h"

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QString>
#include <QStringList>

namespace Echoscope {

// The command line of the echoscope binary, parsed into a HeadlessOptions. Errors come
// back as values: parse() says what to do, errorText() says what was wrong. Every text
// it returns is safe to print on a terminal (values typed by the user are escaped).
class CommandLine
{
public:
    enum class Action {
        Run,         // options() and isHeadless() are valid
        ShowHelp,    // print helpText(), exit 0
        ShowHelpAll, // showHelpAll(): Qt's help including its own options
        ShowVersion, // print versionText(), exit 0
        Fail,        // print errorText() and the usage, exit 2
    };

    // Needs a QCoreApplication (or QApplication) for the program name and version.
    CommandLine();

    Action parse(const QStringList &arguments);

    bool isHeadless() const { return m_headless; }
    HeadlessOptions options() const { return m_options; }
    // Copies into config only the engine settings given on the command line, so they
    // override what the dashboard remembered and leave the rest as it was.
    void overrideConfig(ServerConfig *config) const;
    // Why parse() returned Fail: one sentence naming the argument and its value.
    QString errorText() const { return m_errorText; }
    // Options that were accepted but have no effect with the rest (e.g. --delimiter
    // without --framing line).
    QStringList warnings() const { return m_warnings; }

    QString helpText() const { return m_parser.helpText(); }
    QString versionText() const;
    // Prints the help with Qt's own options and exits the process with 0.
    [[noreturn]] void showHelpAll();

private:
    bool fail(const QCommandLineOption &option, const QString &value, const QString &reason);
    bool applyOptions();
    bool checkConfig(const QCommandLineOption &option, const QString &value);
    bool applyMetricsOptions();
    bool applyFaults();
    bool applyTls();
    bool applyNetworks(const QCommandLineOption &option, QList<QPair<QHostAddress, int>> *networks);
    bool applyUdpOptions();

    QCommandLineParser m_parser;
    QCommandLineOption m_helpOption;
    QCommandLineOption m_versionOption;
    QCommandLineOption m_headlessOption;
    QCommandLineOption m_bindOption;
    QCommandLineOption m_portOption;
    QCommandLineOption m_framingOption;
    QCommandLineOption m_delimiterOption;
    QCommandLineOption m_lengthBytesOption;
    QCommandLineOption m_maxMessageSizeOption;
    QCommandLineOption m_maxClientsOption;
    QCommandLineOption m_idleTimeoutOption;
    QCommandLineOption m_threadsOption;
    QCommandLineOption m_allowOption;
    QCommandLineOption m_denyOption;
    QCommandLineOption m_tlsCertOption;
    QCommandLineOption m_tlsKeyOption;
    QCommandLineOption m_tlsMinVersionOption;
    QCommandLineOption m_tlsHandshakeTimeoutOption;
    QCommandLineOption m_udpPortOption;
    QCommandLineOption m_udpIdleTimeoutOption;
    QCommandLineOption m_maxUdpPeersOption;
    QCommandLineOption m_logFormatOption;
    QCommandLineOption m_logFileOption;
    QCommandLineOption m_verboseOption;
    QCommandLineOption m_metricsPortOption;
    QCommandLineOption m_metricsAddressOption;
    QCommandLineOption m_recordOption;
    QCommandLineOption m_recordLimitOption;
    QCommandLineOption m_recordTotalOption;
    QCommandLineOption m_startOption;
    QCommandLineOption m_screenshotOption;
    QCommandLineOption m_screenshotDelayOption;
    QList<QCommandLineOption> m_faultOptions;

    QStringList m_arguments;
    bool m_headless = false;
    HeadlessOptions m_options;
    QString m_errorText;
    QStringList m_warnings;
};

} // namespace Echoscope
