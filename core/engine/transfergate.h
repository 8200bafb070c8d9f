#pragma once

#include <atomic>

namespace Echoscope {

// Whether anything has connected to EchoServer's per-transfer signals (bytesReceived,
// bytesEchoed, messageEchoed). What emits them per read, per write and per datagram
// (EchoWorker, UdpEchoService) asks first: a signal-to-signal connection pays the whole
// activation on every emit, even with nobody at its end. EchoServer::connectNotify() sets
// the flag and it stays set. Not watching a flag: always open.
class TransferGate
{
public:
    // Call before the emitter moves to its thread.
    void watch(const std::atomic<bool> *watched) { m_watched = watched; }
    bool isOpen() const { return !m_watched || m_watched->load(std::memory_order_acquire); }

private:
    const std::atomic<bool> *m_watched = nullptr;
};

} // namespace Echoscope
