#pragma once

#include <QWidget>

QT_BEGIN_NAMESPACE
class QLabel;
QT_END_NAMESPACE

namespace Echoscope {

struct TrafficSnapshot;

// The server at a glance: where it listens and for how long, clients now / peak /
// total, bytes in and out, and the current message and byte rates.
class StatusPanel : public QWidget
{
    Q_OBJECT

public:
    enum Field {
        ServerField,
        UptimeField,
        ClientsField,
        BytesField,
        MessagesField,
        RateField,
        FieldCount
    };

    explicit StatusPanel(QWidget *parent = nullptr);

    void setSnapshot(const TrafficSnapshot &snapshot);
    // What a field shows now (for tests and the window's title).
    QString fieldText(Field field) const;
    QString fieldToolTip(Field field) const;
    // "IN / OUT", the unit written once when both end with the same one.
    static QString inOutText(const QString &in, const QString &out);

private:
    QLabel *m_values[FieldCount];
};

} // namespace Echoscope
