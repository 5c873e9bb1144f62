package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Lease states (the state label of karbor_protection_bank_leases).
const (
	leaseValid   = "valid"
	leaseInvalid = "invalid"
)

// leaseCollector counts, at each scrape, the banks in use by plugin and by
// whether their lease is valid. A service has a bank per provider, and a
// provider's id is not a label: banks are counted, not named.
type leaseCollector struct {
	desc *prometheus.Desc

	mu    sync.Mutex
	banks []bankLease
}

type bankLease struct {
	plugin string
	valid  func() bool
}

func newLeaseCollector(desc *prometheus.Desc) *leaseCollector {
	return &leaseCollector{desc: desc}
}

func (c *leaseCollector) add(plugin string, valid func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.banks = append(c.banks, bankLease{plugin: plugin, valid: valid})
}

// Describe implements prometheus.Collector.
func (c *leaseCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector: both states of every plugin in
// use, so that a lease turning invalid shows as a 1 where a 0 was.
func (c *leaseCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	banks := append([]bankLease(nil), c.banks...)
	c.mu.Unlock()
	counts := map[string]*[2]int{} // plugin → valid, invalid
	for _, b := range banks {
		n := counts[b.plugin]
		if n == nil {
			n = &[2]int{}
			counts[b.plugin] = n
		}
		if b.valid() {
			n[0]++
		} else {
			n[1]++
		}
	}
	for p, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n[0]), p, leaseValid)
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n[1]), p, leaseInvalid)
	}
}
