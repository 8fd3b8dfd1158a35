package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// bareServer is the baseline: a plain net/http server on loopback whose only
// handler answers every request with a fixed JSON body, the same size as
// seqstore's GetSequenceStore answer. It checks no signature, routes nothing
// and reads no database, so it shows what the HTTP stack alone costs on
// this machine.
type bareServer struct {
	srv      *http.Server
	endpoint string
}

// startBareServer listens on a free loopback port and serves body as
// application/json to every request.
func startBareServer(body []byte) (*bareServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	length := strconv.Itoa(len(body))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{length}
		w.Write(body)
	})
	b := &bareServer{srv: &http.Server{Handler: handler}, endpoint: "http://" + ln.Addr().String()}
	go b.srv.Serve(ln)
	return b, nil
}

func (b *bareServer) close() { b.srv.Close() }

// serveBareChild is the child side of -bare-child: serve the body in
// bodyFile, print the endpoint as the first line of stdout, and stop when
// the parent closes stdin.
func serveBareChild(bodyFile string) error {
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		return err
	}
	b, err := startBareServer(body)
	if err != nil {
		return err
	}
	defer b.close()
	fmt.Println(b.endpoint)
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// bareChild is the bare handler run in a process of its own, so that it
// and seqstore meet the load generator in the same shape: two processes
// with the same GOMAXPROCS.
type bareChild struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	endpoint string
}

// startBareChild re-runs this program with -serve-bare-file and the given
// GOMAXPROCS (0 leaves it unset).
func startBareChild(body []byte, dir string, gomaxprocs int) (*bareChild, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	bodyFile := dir + "/bare-body.json"
	if err := os.WriteFile(bodyFile, body, 0o644); err != nil {
		return nil, err
	}
	c := &bareChild{cmd: exec.Command(self, "-serve-bare-file", bodyFile)}
	c.cmd.Env = os.Environ()
	if gomaxprocs > 0 {
		c.cmd.Env = append(c.cmd.Env, fmt.Sprintf("GOMAXPROCS=%d", gomaxprocs))
	}
	c.cmd.Stderr = os.Stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		c.close()
		return nil, fmt.Errorf("bare handler child said nothing: %w", err)
	}
	c.endpoint = strings.TrimSpace(line)
	return c, nil
}

// close ends the child by closing its stdin, and waits for it.
func (c *bareChild) close() {
	c.stdin.Close()
	c.cmd.Wait()
}
