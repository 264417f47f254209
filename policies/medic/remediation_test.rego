# `opa test policies/ -v` (run by npm test: test/unit/policies.test.ts).
package medic.remediation_test

import data.medic.remediation

base := {
	"incident": {"id": "incident:x:1", "playbook": "canary-slo-breach", "startedAt": "2026-01-07T10:00:00Z"},
	"alert": {"alertname": "CanarySLOBreach", "severity": "warning", "status": "firing", "source": "alertmanager", "labels": {}, "annotations": {}},
	"labels": {"namespace": "shop"},
	"target": "k8s/shop/rollout/web",
	"step": {"index": 0, "name": "abort canary", "action": "kubernetes", "operation": "rollout-abort", "namespace": "shop", "targets": ["k8s/shop/rollout/web"], "risk": "low"},
	"risk": "low",
	"mode": "auto",
	# a Wednesday, 10:30 UTC
	"time": {"now": "2026-01-07T10:30:00Z", "unixMs": 1767781800000, "weekday": "Wednesday", "hourUtc": 10, "minuteUtc": 30},
	"governor": {"openIncidents": 1, "recentActions": [], "deployments": {}},
}

with_patch(patch) := json.patch(base, patch)

test_plain_rollback_is_allowed if {
	remediation.decision == {"outcome": "allow", "reasons": []} with input as base
}

# --- no automated rollback during a major incident without approval

test_rollback_in_critical_incident_needs_approval if {
	d := remediation.decision with input as with_patch([{"op": "replace", "path": "/alert/severity", "value": "critical"}])
	d.outcome == "require_approval"
	d.approvers == ["@sre-leads"]
	contains(d.reasons[0], "automated rollout-abort needs approval")
}

test_rollback_with_many_open_incidents_needs_approval if {
	d := remediation.decision with input as with_patch([{"op": "replace", "path": "/governor/openIncidents", "value": 3}])
	d.outcome == "require_approval"
	contains(d.reasons[0], "3 open incidents")
}

test_restart_in_major_incident_is_allowed if {
	d := remediation.decision with input as with_patch([
		{"op": "replace", "path": "/alert/severity", "value": "critical"},
		{"op": "replace", "path": "/step/operation", "value": "restart"},
	])
	d.outcome == "allow"
}

# --- never touch kube-system

test_kube_system_namespace_is_denied if {
	d := remediation.decision with input as with_patch([{"op": "replace", "path": "/step/namespace", "value": "kube-system"}])
	d.outcome == "deny"
	d.reasons == ["medic never touches namespace kube-system"]
}

test_kube_system_target_is_denied if {
	d := remediation.decision with input as with_patch([{"op": "replace", "path": "/target", "value": "k8s/kube-system/deployment/coredns"}])
	d.outcome == "deny"
	contains(d.reasons[0], "(target k8s/kube-system/deployment/coredns)")
}

test_deny_wins_over_approval if {
	d := remediation.decision with input as with_patch([
		{"op": "replace", "path": "/alert/severity", "value": "critical"},
		{"op": "replace", "path": "/step/namespace", "value": "kube-system"},
	])
	d.outcome == "deny"
}

# --- database failover: weekdays, business hours (UTC)

failover := with_patch([
	{"op": "replace", "path": "/step/name", "value": "promote replica (failover)"},
	{"op": "remove", "path": "/step/operation"},
	{"op": "replace", "path": "/labels", "value": {"component": "database"}},
])

test_failover_on_weekday_business_hours_is_allowed if {
	remediation.decision.outcome == "allow" with input as failover
}

test_failover_on_saturday_is_denied if {
	d := remediation.decision with input as json.patch(failover, [{"op": "replace", "path": "/time/weekday", "value": "Saturday"}])
	d.outcome == "deny"
	contains(d.reasons[0], "database failover only on Monday")
	contains(d.reasons[0], "(now Saturday 10:30 UTC)")
}

test_failover_at_night_is_denied if {
	d := remediation.decision with input as json.patch(failover, [
		{"op": "replace", "path": "/time/hourUtc", "value": 7},
		{"op": "replace", "path": "/time/minuteUtc", "value": 5},
	])
	d.outcome == "deny"
	contains(d.reasons[0], "(now Wednesday 07:05 UTC)")
}

test_failover_of_non_database_is_not_restricted if {
	d := remediation.decision with input as json.patch(failover, [
		{"op": "replace", "path": "/labels", "value": {"component": "cache"}},
		{"op": "replace", "path": "/time/weekday", "value": "Sunday"},
	])
	d.outcome == "allow"
}

# --- at most N% of a fleet per hour (data.json: web, 20 members, 10%)

fleet_input(recent) := json.patch(base, [
	{"op": "replace", "path": "/labels", "value": {"fleet": "web"}},
	{"op": "replace", "path": "/target", "value": "host/web-3"},
	{"op": "replace", "path": "/step/operation", "value": "restart"},
	{"op": "replace", "path": "/governor/recentActions", "value": recent},
])

test_fleet_within_budget_is_allowed if {
	d := remediation.decision with input as fleet_input([{"target": "host/web-1", "at": "2026-01-07T10:10:00Z"}])
	d.outcome == "allow"
}

test_fleet_over_budget_is_denied if {
	d := remediation.decision with input as fleet_input([
		{"target": "host/web-1", "at": "2026-01-07T10:10:00Z"},
		{"target": "host/web-2", "at": "2026-01-07T10:20:00Z"},
		{"target": "db/main", "at": "2026-01-07T10:21:00Z"},
	])
	d.outcome == "deny"
	d.reasons == ["at most 10% of fleet web (20 members) may be remediated per hour: this would make 3"]
}

test_fleet_repeat_on_same_member_counts_once if {
	d := remediation.decision with input as fleet_input([
		{"target": "host/web-1", "at": "2026-01-07T10:10:00Z"},
		{"target": "host/web-3", "at": "2026-01-07T10:20:00Z"},
	])
	d.outcome == "allow"
}

test_fleet_settings_come_from_data if {
	d := remediation.decision with input as fleet_input([{"target": "host/web-1", "at": "2026-01-07T10:10:00Z"}])
		with data.medic.settings.fleets.web as {"size": 10, "prefix": "host/web-", "max_percent": 10}
	d.outcome == "deny"
}
