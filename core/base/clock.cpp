#include "clock.h"

#include "numbertext.h"

#include <QDateTime>

#include <chrono>
#include <limits>

namespace Echoscope {

qint64 Clock::monotonicMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

qint64 Clock::wallMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

QString Clock::timeOfDayText(qint64 epochMs)
{
    QString text;
    appendTimeOfDay(text, epochMs);
    return text;
}

void Clock::appendTimeOfDay(QString &text, qint64 epochMs)
{
    NumberText::AsciiRun run(text);
    appendTimeOfDay(run, epochMs);
}

void Clock::appendTimeOfDay(NumberText::AsciiRun &run, qint64 epochMs)
{
    // Offsets from UTC change on whole seconds, so a second's "hh:mm:ss." holds for all of it.
    struct Second
    {
        qint64 epochSecond = std::numeric_limits<qint64>::min();
        char text[9] = {}; // "hh:mm:ss."
    };
    thread_local Second last;
    const qint64 second = epochMs >= 0 ? epochMs / 1000 : -((-epochMs + 999) / 1000);
    if (second != last.epochSecond) {
        last.epochSecond = second;
        const QTime time = QDateTime::fromMSecsSinceEpoch(second * 1000).time();
        const int parts[3] = {time.hour(), time.minute(), time.second()};
        for (int i = 0; i < 3; ++i) {
            last.text[3 * i] = char('0' + parts[i] / 10);
            last.text[3 * i + 1] = char('0' + parts[i] % 10);
            last.text[3 * i + 2] = i < 2 ? ':' : '.';
        }
    }
    run << QLatin1String(last.text, 9);
    run.threeDigits(int(epochMs - second * 1000));
}

} // namespace Echoscope
