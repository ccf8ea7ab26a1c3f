"""Working the inbox across every flow: due dates and the company calendar,
reminders and escalations, notifications, drafts, the personal dashboard."""
