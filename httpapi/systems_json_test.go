package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/search"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/systems/systemstest"
)

// TestSystemJSONIsTheMapShape: the struct that renders a system encodes to
// the very bytes the map it replaced did (reference below, as the service
// answered before issue 16), for every select, so that the faster encoding
// changes nothing on the wire; and every attribute the struct has can be
// selected by name.
func TestSystemJSONIsTheMapShape(t *testing.T) {
	full := systemstest.System("dev", "s1")
	full.AuthnCredential = &systems.Credential{LoginUser: "u", Password: "p", PrivateKey: "k"}
	full.IsPublic, full.SharedWithUsers, full.DynamicEffectiveUser = true, []string{"a", "b"}, true
	full.JobMaxJobs = -1
	empty := systems.System{Tenant: "dev", ID: "e", SystemType: systems.TypeS3, Owner: "o"}
	for name, s := range map[string]systems.System{"full": full, "empty": empty} {
		var names []string
		for n := range referenceSystemFull(s) {
			names = append(names, n)
		}
		for _, sel := range []string{"allAttributes", "summaryAttributes", "id,host,isPublic,notes,importRefId,nope",
			strings.Join(names, ",")} {
			shape := search.ParseSelect(sel, systems.SummaryAttributes())
			want, err := json.Marshal(referenceSelectFields(s, shape))
			require.NoError(t, err)
			got, err := json.Marshal(selectFields(s, shape))
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got), "%s, select=%s", name, sel)
		}
		all := newSystemAllJSON(s)
		for _, n := range names {
			_, ok := all.field(n)
			assert.True(t, ok, "attribute %s can be selected", n)
		}
	}
}

// referenceSelectFields and referenceSystemFull are the map-based renderer
// as it was before issue 16.
func referenceSelectFields(s systems.System, sel search.Select) map[string]any {
	full := referenceSystemFull(s)
	if sel.All {
		return full
	}
	out := map[string]any{"id": s.ID}
	for _, n := range sel.Fields {
		if v, ok := full[n]; ok && n != "importRefId" {
			out[n] = v
		}
	}
	return out
}

// referenceSystemFull is the allAttributes shape as a map.
func referenceSystemFull(s systems.System) map[string]any {
	var sched any
	if s.BatchScheduler != "" {
		sched = s.BatchScheduler
	}
	return map[string]any{
		"isPublic": s.IsPublic, "isDynamicEffectiveUser": s.DynamicEffectiveUser || s.IsDynamic(), "sharedWithUsers": s.SharedWithUsers,
		"tenant": s.Tenant, "id": s.ID, "description": nullable(s.Description), "systemType": s.SystemType,
		"owner": s.Owner, "host": s.Host, "enabled": s.Enabled, "effectiveUserId": s.EffectiveUserID,
		"defaultAuthnMethod": s.DefaultAuthnMethod, "authnCredential": credentialOut(s.AuthnCredential, s.DefaultAuthnMethod), "bucketName": nullable(s.BucketName),
		"rootDir": s.RootDir, "port": s.Port, "useProxy": s.UseProxy, "proxyHost": nullable(s.ProxyHost),
		"proxyPort": s.ProxyPort, "dtnSystemId": nullable(s.DTNSystemID), "canExec": s.CanExec,
		"canRunBatch": s.CanRunBatch, "enableCmdPrefix": s.EnableCmdPrefix, "mpiCmd": nullable(s.MPICmd),
		"jobRuntimes": s.JobRuntimes, "jobWorkingDir": nullable(s.JobWorkingDir), "jobEnvVariables": s.JobEnvVariables,
		"jobMaxJobs": displayMax(s.JobMaxJobs), "jobMaxJobsPerUser": displayMax(s.JobMaxJobsPerUser),
		"batchScheduler": sched, "batchLogicalQueues": s.BatchLogicalQueues,
		"batchDefaultLogicalQueue": nullable(s.BatchDefaultLogicalQueue), "batchSchedulerProfile": nullable(s.BatchSchedulerProfile),
		"jobCapabilities": s.JobCapabilities, "tags": s.Tags, "notes": s.Notes, "importRefId": nullable(s.ImportRefID),
		"uuid": s.UUID, "allowChildren": s.AllowChildren, "parentId": nullable(s.ParentID), "deleted": s.Deleted,
		"created": sysTime(s.Created), "updated": sysTime(s.Updated),
	}
}
