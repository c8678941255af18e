// Command slowflood measures how a running gateway copes with slow HTTP
// clients (issue 14 §3): it opens N connections from many loopback source
// addresses (Linux routes all of 127/8 to lo); half trickle a request body
// to the expected-schema API, half read /web/app.wasm a byte every two
// seconds. It prints how many connections the server still holds over time
// (ss) and the server's RSS (/proc/PID/status), then closes them all and
// prints the RSS again. Linux only; a measurement, not a test.
//
//	go run ./tools/slowflood -port 8080 -pid $(pgrep -f 'server --port 8080') -n 4000 -ips 40
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func rss(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:"))
		}
	}
	return "?"
}

func established(port int) int {
	out, _ := exec.Command("ss", "-Htn", "state", "established", fmt.Sprintf("( sport = :%d )", port)).Output()
	return strings.Count(string(out), "\n")
}

func main() {
	port := flag.Int("port", 8080, "server port on 127.0.0.1")
	pid := flag.Int("pid", 0, "server pid")
	n := flag.Int("n", 2000, "connections")
	ips := flag.Int("ips", 40, "source IPs 127.0.1.x")
	hold := flag.Duration("hold", 60*time.Second, "how long the clients stay before closing")
	flag.Parse()
	var opened, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	fmt.Printf("start: rss %s, established %d\n", rss(*pid), established(*port))
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(1+i%*ips))}, Timeout: 5 * time.Second,
				Control: func(_, _ string, c syscall.RawConn) error {
					return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
				}}
			c, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
			if err != nil {
				failed.Add(1)
				return
			}
			defer c.Close()
			opened.Add(1)
			body := i%2 == 0
			if body {
				fmt.Fprintf(c, "PUT /api/expected-schema/g%d HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", i)
			} else {
				fmt.Fprintf(c, "GET /web/app.wasm HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: identity\r\n\r\n")
			}
			t := time.NewTicker(2 * time.Second)
			defer t.Stop()
			buf := make([]byte, 1)
			for {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				if body {
					c.Write([]byte(" "))
				} else {
					c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
					c.Read(buf)
				}
			}
		}(i)
		if i%200 == 199 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	start := time.Now()
	for time.Since(start) < *hold {
		time.Sleep(10 * time.Second)
		fmt.Printf("t=%3.0fs opened %d failed %d, server holds %d, rss %s\n", time.Since(start).Seconds(), opened.Load(), failed.Load(), established(*port), rss(*pid))
	}
	close(stop)
	wg.Wait()
	for i := 0; i < 6; i++ {
		time.Sleep(5 * time.Second)
		fmt.Printf("after close +%ds: server holds %d, rss %s\n", 5*(i+1), established(*port), rss(*pid))
	}
}
