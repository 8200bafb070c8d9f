#pragma once

// Reading pcapng files back with tshark (Wireshark's command line, a reader not written
// for Echoscope), for the tests that write them (tst_pcapng, tst_cli, tst_controlapi).

#include <QByteArray>
#include <QDebug>
#include <QProcess>
#include <QStandardPaths>
#include <QString>
#include <QStringList>

namespace EchoTest {

// tshark's path; empty if it is not installed (Debian: apt-get install tshark).
inline QString tsharkPath()
{
    return QStandardPaths::findExecutable(QStringLiteral("tshark"));
}

// tshark ARGS, its output; *ok false (and tshark's error output as a warning) if it does not
// exit 0 within `timeoutMs`.
inline QByteArray runTshark(const QString &tshark, const QStringList &arguments, bool *ok,
                            int timeoutMs)
{
    QProcess process;
    process.start(tshark, arguments);
    *ok = process.waitForFinished(timeoutMs) && process.exitStatus() == QProcess::NormalExit &&
          process.exitCode() == 0;
    if (!*ok)
        qWarning().noquote() << "tshark" << arguments.join(QLatin1Char(' '))
                             << "failed:" << process.readAllStandardError();
    return process.readAllStandardOutput();
}

// What tshark's "follow,tcp,raw" printed: each side's bytes in order (node 0 is the
// side of the first packet, the client; node 1's lines are indented by a tab).
struct Followed
{
    QByteArray fromClient;
    QByteArray fromServer;
    QString node0;
    QString node1;
};

inline Followed parseFollow(const QByteArray &output)
{
    Followed f;
    bool inData = false;
    for (const QByteArray &line : output.split('\n')) {
        if (line.startsWith("Node 0: ")) {
            f.node0 = QString::fromUtf8(line.mid(8)).trimmed();
        } else if (line.startsWith("Node 1: ")) {
            f.node1 = QString::fromUtf8(line.mid(8)).trimmed();
            inData = true;
        } else if (line.startsWith("====")) {
            inData = false;
        } else if (inData && !line.isEmpty()) {
            if (line.startsWith('\t'))
                f.fromServer += QByteArray::fromHex(line.trimmed());
            else
                f.fromClient += QByteArray::fromHex(line.trimmed());
        }
    }
    return f;
}

// The first TCP stream of the pcapng file at `path`, as tshark follows it.
inline Followed followTcp(const QString &tshark, const QString &path, bool *ok, int timeoutMs)
{
    return parseFollow(runTshark(tshark,
                                 {QStringLiteral("-r"), path, QStringLiteral("-q"),
                                  QStringLiteral("-z"), QStringLiteral("follow,tcp,raw,0")},
                                 ok, timeoutMs));
}

} // namespace EchoTest
