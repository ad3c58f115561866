package broker

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
)

// TestClassifySend pins the verdicts publish and publishSync both act on:
// a refusal wins over everything, the caller giving up over the connection,
// and a time-out counts as one only while the connection is still up.
func TestClassifySend(t *testing.T) {
	live := context.Background()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	rejected := fmt.Errorf("%w: PUBACK reason 0x87", ErrRejected)
	timeout := fmt.Errorf("paho: %w", context.DeadlineExceeded)
	other := errors.New("write: broken pipe")
	for _, tc := range []struct {
		name       string
		ctx, upCtx context.Context
		err        error
		want       sendOutcome
		wantErr    error // errors.Is target; nil means the result error is nil
	}{
		{"acked", live, live, nil, sendAcked, nil},
		{"acked after the connection ended", live, ended, nil, sendAcked, nil},
		{"rejected", live, live, rejected, sendRefused, ErrRejected},
		{"rejected while the caller gave up", ended, ended, rejected, sendRefused, ErrRejected},
		{"invalid arguments", live, live, paho.ErrInvalidArguments, sendRefused, paho.ErrInvalidArguments},
		{"caller gave up", ended, live, context.Canceled, sendAbandoned, context.Canceled},
		{"caller gave up as the connection died", ended, ended, autopaho.ConnectionDownError, sendAbandoned, context.Canceled},
		{"connection died", live, ended, context.Canceled, sendConnLost, context.Canceled},
		{"time-out as the connection died", live, ended, timeout, sendConnLost, context.DeadlineExceeded},
		{"time-out on a live connection", live, live, timeout, sendTimedOut, context.DeadlineExceeded},
		{"other failure on a live connection", live, live, other, sendFailedUp, other},
		{"connection down on a live upCtx", live, live, autopaho.ConnectionDownError, sendFailedUp, autopaho.ConnectionDownError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := classifySend(tc.ctx, tc.upCtx, tc.err)
			if got != tc.want {
				t.Errorf("outcome = %d, want %d", got, tc.want)
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Errorf("err = %v, want nil", err)
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want one that is %v", err, tc.wantErr)
			}
		})
	}
}
