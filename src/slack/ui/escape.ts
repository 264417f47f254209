// The one escaping helper for Slack text. Alert labels and annotations are attacker-controlled
// (see docs/architecture.md, "Alert data is hostile"): unescaped, `<!channel>` pings a whole
// channel, `<@U…>` mentions someone and `<http://evil|click here>` shows a spoofed link. Slack
// parses control sequences in mrkdwn and in a message's fallback `text`, and wants exactly these
// three characters escaped as entities; then such sequences render as plain text.
export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
