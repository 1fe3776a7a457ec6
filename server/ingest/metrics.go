package ingest

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	rejected     *prometheus.CounterVec
	events       *prometheus.CounterVec
	droppedItems *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tocsin_ingest_rejected_total",
			Help: "Ingest requests refused, by reason (auth, body, envelope, event, rate_limited, origin, store…).",
		}, []string{"reason"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tocsin_ingest_events_total",
			Help: "Events taken by ingest, by outcome (accepted, duplicate, rate_limited).",
		}, []string{"outcome"}),
		droppedItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tocsin_ingest_dropped_items_total",
			Help: "Envelope items dropped as invalid, by item type.",
		}, []string{"type"}),
	}
	for _, c := range []prometheus.Collector{m.rejected, m.events, m.droppedItems} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register ingest metrics: %w", err)
		}
	}
	return m, nil
}
