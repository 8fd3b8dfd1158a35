package heapcap

import (
	"runtime"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil/leak"
)

// A function that ends its goroutine, as a t.Fatal inside Check does, still
// stops the sampling goroutine.
func TestPeakStopsSamplingOnGoexit(t *testing.T) {
	done := leak.Check(t)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		Peak(Ceiling, runtime.Goexit)
	}()
	<-ended
	done()
}
