#include "tlscredentials.h"

#include "nativesocket.h"
#include "numbertext.h"

#include <QDateTime>
#include <QFile>
#include <QSslSocket>

namespace Echoscope {

namespace {

// Reads at most this much of a certificate or key file: a real one is a few KiB.
constexpr qint64 kMaxFileBytes = 1024 * 1024;

QString readFile(const QString &path, const QString &what, QByteArray *data)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return QCoreApplication::translate("Echoscope::TlsCredentials",
                                           "cannot read the TLS %1 file \"%2\": %3")
            .arg(what, path, file.errorString());
    *data = file.read(kMaxFileBytes + 1);
    if (data->size() > kMaxFileBytes)
        return QCoreApplication::translate("Echoscope::TlsCredentials",
                                           "the TLS %1 file \"%2\" is larger than %3: not a %1")
            .arg(what, path, NumberText::dataSizeText(kMaxFileBytes));
    if (data->isEmpty())
        return QCoreApplication::translate("Echoscope::TlsCredentials",
                                           "the TLS %1 file \"%2\" is empty")
            .arg(what, path);
    return QString();
}

QSslKey parseKey(const QByteArray &data)
{
    const QSsl::EncodingFormat format = data.contains("-----BEGIN") ? QSsl::Pem : QSsl::Der;
    for (QSsl::KeyAlgorithm algorithm : {QSsl::Rsa, QSsl::Ec, QSsl::Dsa}) {
        QSslKey key(data, algorithm, format, QSsl::PrivateKey);
        if (!key.isNull())
            return key;
    }
    return QSslKey();
}

QString dateText(const QDateTime &time)
{
    return time.toUTC().toString(QStringLiteral("yyyy-MM-dd hh:mm 'UTC'"));
}

// Hands the configuration to a server-mode QSslSocket on one end of a socket pair:
// OpenSSL builds its context then and there, and says if the key does not fit the
// certificate. Empty when it took them.
QString checkWithOpenSsl(const QSslConfiguration &configuration)
{
    qintptr ours = -1;
    qintptr theirs = -1;
    if (!NativeSocket::socketPair(&ours, &theirs))
        return QString(); // no way to check here: the first handshake will say
    QString error;
    {
        QSslSocket socket;
        if (!socket.setSocketDescriptor(ours)) {
            NativeSocket::close(ours);
        } else {
            socket.setSslConfiguration(configuration);
            QObject::connect(&socket, &QSslSocket::errorOccurred, &socket,
                             [&error, &socket](QAbstractSocket::SocketError) {
                                 if (error.isEmpty()) // the first says why; the rest repeat it
                                     error = socket.errorString();
                             });
            socket.startServerEncryption(); // reports a bad context synchronously
            socket.disconnect();
            socket.abort();
        }
    }
    NativeSocket::close(theirs);
    return error;
}

} // namespace

bool TlsCredentials::isAvailable(QString *why)
{
    if (QSslSocket::supportsSsl())
        return true;
    if (why) {
        const QStringList backends = QSslSocket::availableBackends();
        *why = backends.isEmpty() ? tr("TLS is not available: Qt found no TLS backend plugin")
                                  : tr("TLS is not available: Qt's TLS backend (%1) cannot load "
                                       "its library (OpenSSL 3: install libssl3)")
                                        .arg(QSslSocket::activeBackend());
    }
    return false;
}

QString TlsCredentials::load(const QString &certificateFile, const QString &keyFile,
                             TlsCredentials *credentials, Problem *problem)
{
    const auto failed = [problem](Problem what, const QString &text) {
        if (problem)
            *problem = what;
        return text;
    };
    QString why;
    if (!isAvailable(&why))
        return failed(Problem::Backend, why);

    QByteArray certificateData;
    QString error = readFile(certificateFile, tr("certificate"), &certificateData);
    if (!error.isEmpty())
        return failed(Problem::Certificate, error);
    QList<QSslCertificate> chain = QSslCertificate::fromData(certificateData, QSsl::Pem);
    if (chain.isEmpty())
        chain = QSslCertificate::fromData(certificateData, QSsl::Der);
    if (chain.isEmpty() || chain.constFirst().isNull())
        return failed(Problem::Certificate,
                      tr("the TLS certificate file \"%1\" holds no certificate in "
                         "PEM or DER form")
                          .arg(certificateFile));

    QByteArray keyData;
    error = readFile(keyFile, tr("key"), &keyData);
    if (!error.isEmpty())
        return failed(Problem::Key, error);
    if (keyData.contains("ENCRYPTED"))
        return failed(Problem::Key, tr("the TLS key file \"%1\" is encrypted with a passphrase; "
                                       "give an unencrypted key (openssl pkey -in KEY -out "
                                       "PLAIN.pem writes one)")
                                        .arg(keyFile));
    const QSslKey key = parseKey(keyData);
    if (key.isNull())
        return failed(Problem::Key, tr("the TLS key file \"%1\" holds no RSA, EC or DSA private "
                                       "key in PEM or DER form")
                                        .arg(keyFile));

    TlsCredentials loaded;
    loaded.m_chain = chain;
    loaded.m_key = key;
    const QString rejected =
        checkWithOpenSsl(loaded.serverConfiguration(ServerConfig::TlsVersion::Tls12));
    if (!rejected.isEmpty())
        return failed(Problem::Mismatch,
                      tr("the private key \"%1\" and the certificate \"%2\" cannot be "
                         "used together: %3")
                          .arg(keyFile, certificateFile, rejected));
    if (problem)
        *problem = Problem::None;
    *credentials = loaded;
    return QString();
}

QSslConfiguration TlsCredentials::serverConfiguration(ServerConfig::TlsVersion minimum) const
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setLocalCertificateChain(m_chain);
    configuration.setPrivateKey(m_key);
    configuration.setPeerVerifyMode(QSslSocket::VerifyNone); // no client certificates
    configuration.setProtocol(minimum == ServerConfig::TlsVersion::Tls13 ? QSsl::TlsV1_3OrLater
                                                                         : QSsl::TlsV1_2OrLater);
    return configuration;
}

QString TlsCredentials::summary() const
{
    const QSslCertificate leaf = certificate();
    if (leaf.isNull())
        return QString();
    QString subject = leaf.subjectDisplayName();
    if (subject.isEmpty())
        subject = leaf.subjectInfo(QSslCertificate::Organization).join(QStringLiteral(", "));
    if (subject.isEmpty())
        subject = tr("(no subject name)");
    const bool selfSigned = leaf.isSelfSigned();
    const QString issuer =
        selfSigned ? tr("self-signed") : tr("issued by %1").arg(leaf.issuerDisplayName());
    return tr("certificate %1 (%2, valid until %3)")
        .arg(subject, issuer, dateText(leaf.expiryDate()));
}

QString TlsCredentials::validityProblem() const
{
    const QSslCertificate leaf = certificate();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (leaf.isNull())
        return QString();
    if (leaf.expiryDate() < now)
        return tr("the TLS certificate expired on %1: clients that check it will "
                  "refuse the handshake")
            .arg(dateText(leaf.expiryDate()));
    if (leaf.effectiveDate() > now)
        return tr("the TLS certificate is not valid before %1: clients that check it "
                  "will refuse the handshake")
            .arg(dateText(leaf.effectiveDate()));
    return QString();
}

} // namespace Echoscope
