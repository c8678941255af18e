package httpguard

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// ackedBytes returns a reader of the bytes the peer of c has acknowledged
// (TCP_INFO's tcpi_bytes_acked, Linux 4.1+), or nil when c has no socket.
func ackedBytes(c net.Conn) func() (uint64, bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return func() (uint64, bool) {
		var info *unix.TCPInfo
		var ierr error
		if err := raw.Control(func(fd uintptr) { info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) }); err != nil || ierr != nil {
			return 0, false
		}
		return info.Bytes_acked, true
	}
}
