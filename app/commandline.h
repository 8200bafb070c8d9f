#pragma once

#include "headlessoptions.h"

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QString>
#include <QStringList>

#include <functional>
#include <vector>

namespace Echoscope {

// The command line of the echoscope binary, parsed into a HeadlessOptions. Errors come
// back as values: parse() says what to do, errorText() says what was wrong. Every text
// it returns is safe to print on a terminal (values typed by the user are escaped).
//
// Every option is one row of a table (see CommandLine() in commandline.cpp): its name,
// help and value name, how its value is read into the options (a refused value names the
// option), whether it sets an engine setting the dashboard remembers (then it overrides
// that setting for this run only), and where it has an effect. Adding an option is adding
// a row.
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
    ~CommandLine();
    CommandLine(const CommandLine &) = delete; // the rows point back at it
    CommandLine &operator=(const CommandLine &) = delete;

    Action parse(const QStringList &arguments);

    bool isHeadless() const { return m_headless; }
    HeadlessOptions options() const { return m_options; }
    // Copies into config only the engine settings given on the command line, so they
    // override what the dashboard remembered and leave the rest as it was. The dashboard
    // shows them for this run and does not remember them (MainWindow::setRunOnlySettings).
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
    struct Row;
    // Reads the option's value into m_options; false after fail() or checkConfig().
    using Apply = std::function<bool(const Row &row, const QString &value)>;
    // Copies the option's engine setting from one config to another.
    using Override = std::function<void(const ServerConfig &from, ServerConfig *to)>;

    const Row *findRow(const QString &name) const;
    bool isSet(const QString &name) const;
    bool fail(const Row &row, const QString &value, const QString &reason);
    bool checkConfig(const Row &row, const QString &value);
    bool applyOptions();
    bool checkTls();
    void warnAboutUnusedOptions();

    // Appliers shared by the rows; `expected` completes "expected ..." in a refusal.
    Apply wholeNumber(qint64 low, qint64 high, const QString &expected,
                      std::function<void(qint64)> set);
    Apply seconds(qint64 lowMs, qint64 highMs, const QString &expected,
                  std::function<void(qint64)> set);
    Apply byteSize(qint64 low, qint64 high, const QString &expected,
                   std::function<void(qint64)> set);
    Apply path(const QString &expected, QString *target);
    Apply networks(QList<QPair<QHostAddress, int>> *target);

    QCommandLineParser m_parser;
    std::vector<Row> m_rows;

    QStringList m_arguments;
    bool m_headless = false;
    HeadlessOptions m_options;
    QString m_errorText;
    QStringList m_warnings;
};

} // namespace Echoscope
