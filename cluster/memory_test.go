package cluster_test

import (
	"testing"

	"github.com/tapis-go/tapis/cluster"
	"github.com/tapis-go/tapis/cluster/clustertest"
)

// One process: both instances are the same value.

func TestMemoryFeed(t *testing.T) {
	clustertest.RunFeedTests(t, func(*testing.T) (cluster.Feed, cluster.Feed) {
		f := &cluster.MemoryFeed{}
		return f, f
	})
}

func TestMemoryLocker(t *testing.T) {
	clustertest.RunLockerTests(t, func(*testing.T) (cluster.Locker, cluster.Locker) {
		l := &cluster.MemoryLocker{}
		return l, l
	})
}

func TestMemoryCanary(t *testing.T) {
	clustertest.RunCanaryTests(t, func(*testing.T) cluster.CanaryStore { return &cluster.MemoryCanary{} })
}
