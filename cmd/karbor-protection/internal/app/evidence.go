package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/db"
)

// servicesEvidence tells whether an owner without a bank lease may be alive
// from karbor's services rows. Such an owner is a Python karbor-protection
// instance (its file-system bank takes no lease); every one of those reports
// to the services table every report_interval while it runs, and is up, as
// oslo's servicegroup judges, while its last report is within
// service_down_time. Hosts that hold a lease of ours are our instances,
// judged by their leases, so their rows are not evidence about Python ones
// (an instance that replaced a Python one under the same host name keeps
// its row alive).
type servicesEvidence struct {
	heartbeats func(ctx context.Context, binary string) ([]db.ServiceHeartbeat, error)
	binary     string
	downTime   time.Duration
	now        func() time.Time
}

var _ bank.Evidence = servicesEvidence{}

// Unleased implements bank.Evidence.
func (e servicesEvidence) Unleased(ctx context.Context, leasedHosts []string) (bank.Verdict, error) {
	rows, err := e.heartbeats(ctx, e.binary)
	if err != nil {
		return bank.Verdict{}, fmt.Errorf("services heartbeats: %w", err)
	}
	now := e.now().UTC()
	var up, down []string
	for _, r := range rows {
		if slices.Contains(leasedHosts, r.Host) {
			continue
		}
		seen := fmt.Sprintf("%s (last report %s)", r.Host, r.LastSeen.Format("2006-01-02 15:04:05"))
		if r.Up(now, e.downTime) {
			up = append(up, seen)
		} else {
			down = append(down, seen)
		}
	}
	if len(up) > 0 {
		return bank.Verdict{Liveness: bank.OwnerAlive, Reason: fmt.Sprintf(
			"%s without a lease of ours is up (services heartbeat within service_down_time %v) on %s",
			e.binary, e.downTime, strings.Join(up, ", "))}, nil
	}
	reason := fmt.Sprintf("no %s without a lease of ours has reported within service_down_time %v", e.binary, e.downTime)
	if len(down) > 0 {
		reason += "; down: " + strings.Join(down, ", ")
	}
	return bank.Verdict{Liveness: bank.OwnerDead, Reason: reason}, nil
}

// operatorAssertion is [DEFAULT] recover_unleased_checkpoints = true: the
// operator says no Python instance uses these banks any more.
type operatorAssertion struct{}

// Unleased implements bank.Evidence.
func (operatorAssertion) Unleased(context.Context, []string) (bank.Verdict, error) {
	return bank.Verdict{Liveness: bank.OwnerDead, Reason: "[DEFAULT] recover_unleased_checkpoints = true says no Python instance uses this bank"}, nil
}
