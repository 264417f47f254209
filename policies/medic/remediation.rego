# medic's example remediation policy (Rego v1). A playbook step opts in with
#   policy: { decision: medic/remediation/decision }
# and medic asks OPA (server: POST /v1/data/medic/remediation/decision; Wasm: entrypoint
# medic/remediation/decision) with the incident as input (README, "Policy as code (OPA)").
# The answer: {"outcome": "allow" | "deny" | "require_approval", "reasons": [...], "approvers": [...]}.
# Settings (fleets, approver groups, hours) are in data.json beside this file.
package medic.remediation

defaults := {
	"major_incident": {"open_incidents": 3, "severities": ["critical"], "approvers": ["@sre-leads"]},
	"protected_namespaces": ["kube-system"],
	"failover": {"components": ["database"], "days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], "from_hour": 8, "to_hour": 18},
	"fleets": {},
}

settings := object.union(defaults, data.medic.settings)

settings := defaults if not data.medic.settings

# Any deny wins; then approvals; else allow.
decision := {"outcome": "deny", "reasons": sort(deny)} if count(deny) > 0

decision := {"outcome": "require_approval", "reasons": sort({a.reason | some a in approval}), "approvers": sort({g | some a in approval; some g in a.approvers})} if {
	count(deny) == 0
	count(approval) > 0
}

decision := {"outcome": "allow", "reasons": []} if {
	count(deny) == 0
	count(approval) == 0
}

# --- never touch kube-system -------------------------------------------------------------------

deny contains concat("", ["medic never touches namespace ", input.step.namespace]) if {
	input.step.namespace in settings.protected_namespaces
}

deny contains concat("", ["medic never touches namespace ", ns, " (target ", t, ")"]) if {
	some t in array.concat(input.step.targets, [input.target])
	some ns in settings.protected_namespaces
	startswith(t, concat("", ["k8s/", ns, "/"]))
}

# --- no automated rollback during a major incident without approval --------------------------

rollback_operations := {"rollback", "rollout-abort", "rollout-undo"}

major_incident if input.alert.severity in settings.major_incident.severities

major_incident if input.governor.openIncidents >= settings.major_incident.open_incidents

approval contains {
	"reason": concat("", ["major incident (", input.alert.severity, " alert, ", format_int(input.governor.openIncidents, 10), " open incidents): an automated ", input.step.operation, " needs approval"]),
	"approvers": settings.major_incident.approvers,
} if {
	input.step.operation in rollback_operations
	major_incident
}

# --- database failover only on weekdays during business hours (UTC) -------------------------

database_failover if {
	contains(lower(input.step.name), "failover")
	input.labels.component in settings.failover.components
}

pad2(n) := format_int(n, 10) if n >= 10

pad2(n) := concat("", ["0", format_int(n, 10)]) if n < 10

business_hours if {
	input.time.weekday in settings.failover.days
	input.time.hourUtc >= settings.failover.from_hour
	input.time.hourUtc < settings.failover.to_hour
}

deny contains concat("", [
	"database failover only on ", concat(", ", settings.failover.days), " ",
	format_int(settings.failover.from_hour, 10), ":00-", format_int(settings.failover.to_hour, 10), ":00 UTC (now ",
	input.time.weekday, " ", pad2(input.time.hourUtc), ":", pad2(input.time.minuteUtc), " UTC)",
]) if {
	database_failover
	not business_hours
}

# --- at most N% of a fleet per hour ----------------------------------------------------------

# The fleet the alert names (label `fleet`), with its size, target prefix and max_percent.
fleet := settings.fleets[input.labels.fleet]

fleet_touched := {a.target | some a in input.governor.recentActions; startswith(a.target, fleet.prefix)} | {input.target}

deny contains concat("", [
	"at most ", format_int(fleet.max_percent, 10), "% of fleet ", input.labels.fleet, " (", format_int(fleet.size, 10),
	" members) may be remediated per hour: this would make ", format_int(count(fleet_touched), 10),
]) if {
	count(fleet_touched) * 100 > fleet.max_percent * fleet.size
}
