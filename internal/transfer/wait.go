package transfer

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
)

// Waitable is something that settles in the end: a read set being
// ingested, or (when the server has them) an import, export or activation
// job. Wait polls it.
type Waitable interface {
	// String names it for messages: "read set 1234".
	String() string
	// Poll looks at it once.
	Poll(ctx context.Context) (State, error)
}

// State is what a poll found.
type State struct {
	Status  string `json:"status"`
	Message string `json:"statusMessage,omitempty"`
	// Settled is set once the status will not change by itself; Failed
	// when it settled short of success.
	Settled bool `json:"-"`
	Failed  bool `json:"-"`
}

// FailedError is what Wait returns when the thing settled short of success.
type FailedError struct {
	What  string
	State State
}

func (e *FailedError) Error() string {
	msg := fmt.Sprintf("%s is %s", e.What, e.State.Status)
	if e.State.Message != "" {
		msg += ": " + e.State.Message
	}
	return msg
}

// firstPoll is the pause before the second look: small read sets settle in
// well under a second.
const firstPoll = 250 * time.Millisecond

// Wait polls w, at growing intervals up to PollInterval, until it settles
// or ctx ends. It returns the settled state, with a *FailedError when that
// is a failure.
func (c *Client) Wait(ctx context.Context, w Waitable) (State, error) {
	longest := c.PollInterval
	if longest <= 0 {
		longest = 10 * time.Second
	}
	pause := min(firstPoll, longest)
	last := ""
	for {
		st, err := w.Poll(ctx)
		if err != nil {
			return st, err
		}
		if st.Status != last {
			c.step("%s is %s", w, st.Status)
			last = st.Status
		}
		if st.Settled {
			if st.Failed {
				return st, &FailedError{What: w.String(), State: st}
			}
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("stopped waiting for %s, still %s: %w", w, st.Status, context.Cause(ctx))
		case <-time.After(pause):
		}
		pause = min(pause*2, longest)
	}
}

// ReadSet is a read set to wait for: it settles when it is ACTIVE (success)
// or failed, deleted or archived.
type ReadSet struct {
	API     *omics.Client
	StoreID string
	ID      string
}

func (r ReadSet) String() string { return "read set " + r.ID }

// Poll reads the read set's status.
func (r ReadSet) Poll(ctx context.Context) (State, error) {
	md, err := r.API.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(r.StoreID), Id: aws.String(r.ID)})
	if err != nil {
		return State{}, fmt.Errorf("reading %s: %w", r, err)
	}
	return readSetState(md.Status, md.StatusMessage), nil
}

// readSetState says whether a read set in this status has settled, and
// whether short of ACTIVE.
func readSetState(status types.ReadSetStatus, message *string) State {
	st := State{Status: string(status), Message: aws.ToString(message)}
	switch status {
	case types.ReadSetStatusActive:
		st.Settled = true
	case types.ReadSetStatusProcessingUpload, types.ReadSetStatusActivating:
	default:
		// UPLOAD_FAILED, DELETING, DELETED, ARCHIVED: nothing will make it
		// ACTIVE without someone acting.
		st.Settled, st.Failed = true, true
	}
	return st
}
