//go:build !unix

package harvest

import (
	"testing"
	"time"
)

func cpuTime() time.Duration { return 0 }

func reportRSS(*testing.B) {}
