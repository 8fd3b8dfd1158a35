package main

import (
	"net"
	"net/http"
	"strconv"
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
