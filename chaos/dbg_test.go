package chaos

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestDbg(t *testing.T) {
	kinds := strings.Split(os.Getenv("DBG_KINDS"), ",")
	if os.Getenv("DBG_KINDS") == "" {
		t.Skip()
	}
	os.RemoveAll("/tmp/chaosdbg")
	o := QuickOptions(binary, "/tmp/chaosdbg/run")
	o.Kinds = kinds
	o.Baseline = 3 * time.Second
	o.Cluster.PlantCommand = plantCommand(t)
	o.Out = "/tmp/chaosdbg/out"
	o.Log = testLogger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + res.Markdown())
}
