#pragma once

#include "serverconfig.h"

#include <QCoreApplication>
#include <QList>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QString>

namespace Echoscope {

// The certificate chain and private key of a TLS listener, read from files and checked
// before anything listens: readable, parseable (PEM or DER; RSA, EC or DSA keys, not
// encrypted), the key belonging to the certificate (OpenSSL's own check, run on a
// local socket pair), and a TLS backend present at all.
class TlsCredentials
{
    Q_DECLARE_TR_FUNCTIONS(Echoscope::TlsCredentials) // the context lupdate gives it

public:
    // Which setting load() found wrong, for a caller that names its own option.
    enum class Problem { None, Backend, Certificate, Key, Mismatch };

    // Empty when valid; else one sentence naming the file and the reason.
    static QString load(const QString &certificateFile, const QString &keyFile,
                        TlsCredentials *credentials, Problem *problem = nullptr);

    bool isNull() const { return m_chain.isEmpty(); }
    QSslCertificate certificate() const { return m_chain.value(0); }
    // Server mode, no client certificates asked for, this minimum protocol version.
    QSslConfiguration serverConfiguration(ServerConfig::TlsVersion minimum) const;
    // "certificate localhost (self-signed, valid until 2026-05-01 12:00 UTC)"
    QString summary() const;
    // Empty, or why clients will refuse it: "expired on ...", "not valid before ...".
    QString validityProblem() const;

    // Whether Qt has a working TLS backend here; else why not.
    static bool isAvailable(QString *why);

private:
    QList<QSslCertificate> m_chain;
    QSslKey m_key;
};

} // namespace Echoscope
