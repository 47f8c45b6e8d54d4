# Field violations in English: the services' `description` of each, and the command line's. One message per
# rule; the Chinese catalog (zh-CN.ftl) has the same ids. Arguments are named in braces.

required = is required
not-empty = must not be empty
at-most-chars = must be at most { $max } characters
longer-than = is longer than { $max } characters
key-chars = must be 1 to 32 characters
key-letters = may hold only letters, digits, '-', '_' and '.'
code-letters = may hold only ASCII letters, digits, '-', '_' and '.'
appears-twice = { $value } appears twice
not-a-date = { $value } is not a date (YYYY-MM-DD)
year-range = must be a year between 2000 and 2100

catalog-legal-basis = at least one legal provision is required (no inspection without a legal basis)
catalog-unknown-department = unknown department { $code }
catalog-kinds = at least one kind of target is required
catalog-kind-twice = lists a kind twice
catalog-cap-over = { $given } ({ $given_percent }) exceeds the jurisdiction's cap of { $cap } ({ $cap_percent }) for general items
catalog-key-cap = a key item has no fixed cap, but an explicit one must be set
catalog-cap-full = must be at most 10000 (100% of the directory)
catalog-frequency-min = must be at least 1
catalog-frequency-max = must be at most 12 a year
catalog-methods = at least one inspection method is required
catalog-checklist = at least one check point is required
catalog-department-fixed = the owning department is { $code } and cannot change
catalog-retire-reason = a reason is required to retire an item

plan-entries-none = a plan needs at least one entry
plan-entries-max = a plan holds at most { $max } entries
plan-directed-scope = a directed (定向) entry needs a scope
plan-undirected-scope = an undirected (不定向) entry covers every target its items apply to; leave the scope empty
plan-ratio-or-quantity = give a ratio or a quantity
plan-not-both = give a ratio or a quantity, not both
plan-ratio-max = must be at most 10000 (100%)
plan-risk-range = must be between 1 and 10000
plan-risk-with-quantity = ratios per risk level go with a ratio, not a quantity
plan-risk-order = level { $level } gets { $points_bp }, less than the lower level { $lower } ({ $lower_points_bp })
plan-unknown-department = no active department has code { $code }
plan-lead-takes-part = the lead department { $code } must take part with its items
plan-department-twice = department { $code } appears twice
plan-items-none = a participating department inspects at least one item
plan-window-year = the execution window must lie within { $year }
plan-window-order = must not be before window_start
plan-year-fixed = the plan is for { $year }; a plan's year does not change

result-codes-none = name at least one result code
result-code-unknown = "{ $code }" is not in result code table { $table }
result-code-retired = { $code } ({ $text }) is retired in table { $table }
result-code-contradicts = { $code } ({ $text }) contradicts the visit, which found a problem: { $problems }
result-code-outcome = { $code } ({ $text }) cannot be said of a target the visit found { $outcome ->
    [not_found] not found
    [closed] closed
   *[other] { $outcome }
}
result-code-alone = { $code } ({ $text }) stands alone
result-disposal-needed = a problem needs a follow-up: ordered to correct, case opened, transferred or notified
result-disposal-none = no code states a problem, so there is nothing to follow up
result-department-needed = name the department responsible (谁管辖、谁负责)
result-department-extra = only a transfer or notice names a department
result-review-reason = say why it is returned or rejected
result-withhold-reason = a withheld result needs the reason it may not be made public
result-correction-reason = a correction says why
result-unknown-department = "{ $code }" is not a known department

reason-decline = is required to decline
reason-withdraw = is required to withdraw
reason-proceed = is required to proceed without a department
reason-cancel = is required to cancel
extend-later = must move the deadline later
visit-before-assignment = is before the assignment on { $day }
visit-too-late = is after { $day }: a visit is held within 5 working days of the assignment
not-a-working-day = is not a working day
evidence-empty = is zero: the file is empty
record-signed-or-refused = give either who signed or the refusal note, not both or neither

recusal-why = a recusal request states why the target asks for it
recusal-reject-why = a rejection must say why

# A joint inspection's timeline (the saga's history) and why it waits. Arguments ending in `dept` or `depts` are
# departments, shown by name; those ending in `day` are dates.
phase-inviting = inviting
phase-drawing_targets = drawing targets
phase-reviewing_targets = reviewing targets
phase-locking = locking
phase-assigning_inspectors = assigning inspectors
phase-scheduling = scheduling
phase-visiting = visiting
phase-results = results
phase-follow_up = follow-up
phase-closed = closed
phase-cancelled = cancelled
calendar-year-not-covered = the working-day calendar does not cover { $year }: add that year's State Council notice to calendar.extra_file
tl-saga-started-alone = no other department to invite
tl-saga-started = invited { $depts } to answer by { $day }
tl-saga-started-undated = invited { $depts }; no deadline
att-invite-uncounted = the invitation deadline cannot be counted
tl-invitation-confirmed = { $dept } takes part
tl-invitation-declined = { $dept } declined: { $reason }
tl-targets-drawn = { $count ->
    [one] 1 target
   *[other] { $count } targets
} drawn; awaiting the lead's review
tl-targets-approved = { $count ->
    [one] 1 target
   *[other] { $count } targets
} approved by { $by }
tl-targets-locked = { $count ->
    [one] 1 target
   *[other] { $count } targets
} locked; teams asked of { $depts }
tl-teams-drawn = { $count ->
    [one] 1 team
   *[other] { $count } teams
} drawn; visits to be scheduled
tl-teams-uncounted = their last day cannot be counted
att-schedule-uncounted = the visits' last day cannot be counted; the operators load the calendar year (calendar.extra_file, then suiji calendar reload)
tl-schedule-counted = the visits' last day is counted on the calendar as loaded
att-command-failed = { $code }: { $reason }
tl-command-failed = { $command } failed ({ $code }): { $reason }
tl-results-final-closed = all { $results } results published or withheld; nothing to follow up: closed
tl-results-final-follow-up = all { $results } results published or withheld; { $open ->
    [one] 1 transfer
   *[other] { $open } transfers
} to follow up
tl-visit-progress = { $scheduled } of { $total } scheduled, { $concluded } concluded
tl-reminded = the deadline passed; { $depts } reminded, escalation on { $day }
att-no-answer = no answer from { $depts }
tl-escalated = no answer from { $depts }; the coordinator of { $lead_dept } decides
tl-transfers-closed = every transfer closed: the task is closed
tl-follow-up-reopened = follow-up reopened
tl-withdrawn-released = { $dept } withdrew: { $reason }; its inspectors are released and its items taken off the visits not yet concluded
tl-withdrawn = { $dept } withdrew before the teams: { $reason }
tl-steer-remind = { $depts } reminded
tl-steer-extend = invitation deadline extended to { $day }
tl-steer-proceed = proceeding without { $depts }: { $reason }
tl-steer-pause = paused
tl-steer-resume = resumed; { $held ->
    [0] no command was held
    [one] the 1 held command sent
   *[other] the { $held } held commands sent
}
tl-cancelled = cancelled while { $phase }: { $reason }; what was drawn or locked stays on record
tl-steer-retry = { $command } sent again after:
deadline-invite = invitation deadline
deadline-visit = last day for the visit
deadline-due = due date
due-stays = { $deadline } { $old_day } stays, now { $final ->
    [yes] final
   *[no] still provisional
}
due-moved = { $deadline } moved from { $old_day } to { $new_day } ({ $final ->
    [yes] final
   *[no] still provisional
})
due-counted = { $deadline } counted: { $new_day } ({ $final ->
    [yes] final
   *[no] still provisional
})
due-visit-stays = { $visit }: { $deadline } { $old_day } stays, now { $final ->
    [yes] final
   *[no] still provisional
}
due-visit-moved = { $visit }: { $deadline } moved from { $old_day } to { $new_day } ({ $final ->
    [yes] final
   *[no] still provisional
})
due-visit-counted = { $visit }: { $deadline } counted: { $new_day } ({ $final ->
    [yes] final
   *[no] still provisional
})
late-cancelled = the saga is cancelled
late-expected = { $what ->
    [targets_drawn] the targets were drawn
    [targets_locked] the targets were locked
   *[teams_drawn] the teams were drawn
}, but the saga is { $phase }
late-schedule = the visits' last day was not waited on
late-command = { $command } failed, but the saga no longer waits on it
late-results-final = results final while { $phase }: more visits or results are to come
late-answered = { $dept } answered after the invitations closed
late-timer-closed = { $timer } fired after the invitations closed
late-timer-paused = { $timer } fired while paused
tl-transfer-created = { $transfer }: { $from_dept } transferred to { $to_dept }
tl-transfer-judicial = { $transfer }: { $from_dept } transferred a suspected crime to the judicial organ { $to_dept }
tl-transfer-published = { $transfer }: { $from_dept } transferred to { $to_dept } with its published result
tl-transfer-answered = { $transfer }: { $dept } { $answer ->
    [accepted] accepted it
    [declined] declined it
   *[closed] closed it
}
tl-transfer-rerouted = { $transfer }: routed to { $to_dept }
tr-created = to { $to_dept }
tr-created-published = from the published result: to { $to_dept }
tr-rerouted = { $from_dept } → { $to_dept }
tl-visit-replaced = { $visit }: { $replaced } replaced by { $replacement } ({ $dept }): { $note }
tl-visit-scheduled = { $visit }: scheduled for { $day }, { $announced ->
    [yes] announced
   *[no] unannounced
}
tl-visit-findings = { $visit }: { $dept } recorded its findings ({ $problems ->
    [0] no problem
    [one] 1 problem
   *[other] { $problems } problems
})
tl-visit-signed = { $visit }: record form signed by { $by }
tl-visit-sign-refused = { $visit }: the target refused to sign: { $note }
tl-visit-confirmed = { $visit }: confirmed by { $inspectors }
tl-visit-evidence = { $visit }: { $dept } evidence on { $whole ->
    [yes] the visit
   *[no] { $on }
}: { $description } ({ $media_type }, { $bytes } bytes, sha256 { $sha256 })
tl-visit-concluded = { $visit }: concluded, { $outcome ->
    [inspected] inspected
    [not_found] not found at its registered address
   *[closed] closed
}

# A result's history.
rh-created = visit { $visit } concluded: { $outcome ->
    [inspected] inspected
    [not_found] not found at its registered address
    [closed] closed
   *[other] { $outcome }
}
rh-due-uncounted = no due date can be counted

# Why a step is not possible now (FailedPrecondition). Arguments ending in `plan_state`, `task_state`,
# `result_state`, `transfer_state`, `recusal_state` or `draw_state` are states, shown by the catalogs' names.
plan_state-draft = a draft
plan_state-submitted = submitted
plan_state-approved = approved
plan_state-published = published
task_state-created = created
task_state-launched = launched
task_state-cancelled = cancelled
result_state-not_entered = not entered
result_state-awaiting_review = awaiting review
result_state-returned = returned
result_state-rejected = rejected
result_state-approved = approved
result_state-published = published
result_state-withheld = withheld
transfer_state-open = open
transfer_state-accepted = accepted
transfer_state-declined = declined
transfer_state-closed = closed
recusal_state-pending = pending
recusal_state-accepted = accepted
recusal_state-rejected = rejected
draw_state-committed = committed
draw_state-targets_drawn = targets drawn
draw_state-targets_locked = targets locked
draw_state-teams_drawn = teams drawn
draw_state-cancelled = cancelled
nn-item-retired-edit = the item is retired; a retired item is never edited
nn-item-retired = the item is retired
nn-no-draft = there is no draft to publish; version { $version } is already in force
nn-item-never-published = the item was never published; only a published item is retired
nn-item-already-retired = the item is already retired
nn-item-changed = the item changed since it was read (revision { $now } now, { $expected } expected); read it again
nn-draw-state = task { $task } cannot { $doing ->
    [draw_targets] draw its targets
    [lock] be locked
    [draw_inspectors] draw its inspectors
   *[replace] replace an inspector
}: its draw is { $draw_state }
nn-team-too-small = a team would have { $size } inspectors; at least { $min } are required
nn-teams-cannot = the teams cannot be drawn
nn-no-replacement = no other eligible inspector of { $dept } can take the seat
nn-plan-edit = plan { $plan } is { $plan_state }; only a draft is edited (a published plan changes by amendment)
nn-plan-submit = plan { $plan } is { $plan_state }; only a draft is submitted
nn-plan-return = plan { $plan } is { $plan_state }; only a submitted plan is returned
nn-plan-approve = plan { $plan } is { $plan_state }; only a submitted plan is approved
nn-plan-publish = plan { $plan } is { $plan_state }; only a plan the joint meeting approved is published
nn-plan-amend = plan { $plan } is { $plan_state }; a plan not yet published is edited, not amended
nn-amendment-pending = plan { $plan } already has amendment version { $version } pending; publish it first
nn-not-proposed-amendment = version { $version } of plan { $plan } is not a proposed amendment
nn-amendment-not-filed = amendment version { $version } is not filed yet with { $with ->
    [both] the joint meeting and the judicial department
    [joint_meeting] the joint meeting
   *[judicial] the judicial department
}
nn-not-pending-amendment = version { $version } of plan { $plan } is not a pending amendment
nn-plan-tasks = plan { $plan } is { $plan_state }; tasks come only from a published plan
nn-task-launch = task { $task } is { $task_state }; only a created task is launched
nn-task-window-ended = task { $task }'s window ended on { $end_day }; it can no longer be launched
nn-task-cancelled = task { $task } is already cancelled
nn-item-unpublished = item { $item } is no longer published in the catalog; amend the plan or cancel the task
nn-result-approved-edit = the result is approved: publish it, or have it withheld
nn-result-published-edit = the result is published: it is corrected with the head's sign-off, never edited
nn-result-withheld = the result is withheld and archived
nn-result-not-awaiting = the result is { $result_state }, not awaiting review
nn-result-publish = only an approved result is published; this one is { $result_state }
nn-result-published-withhold = the result is published: it can be corrected, not withdrawn from the public
nn-result-withheld-already = the result is withheld already
nn-result-not-entered = the result is not entered: enter it first, so the archive keeps what was found
nn-result-correct-unpublished = only a published result is corrected; before publication it is returned and entered again
nn-recusal-decided = the request was already { $recusal_state }
nn-invitations-closed = the invitations are closed
nn-no-deadline = no deadline to count again
nn-deadline-not-provisional = the current deadline is not the provisional one counted again
nn-not-reviewing = the saga is { $phase }, not reviewing targets
nn-not-visiting = the saga is { $phase }, not visiting
nn-answered-already = { $dept } has answered already
nn-not-taking-part = { $dept } does not take part
nn-teams-being-drawn = the teams are being drawn; withdraw once they are assigned
nn-visits-over = the saga is { $phase }: the visits are over
nn-nobody-to-remind = nobody is waited on to answer
nn-already-paused = already paused
nn-not-paused = not paused
nn-nothing-failed = nothing failed
nn-not-retriable = { $step } is not a step that can be retried; extend, proceed without or cancel
nn-visit-concluded = visit { $visit } is concluded
nn-visit-not-scheduled = the visit is not scheduled
nn-findings-recorded = findings are recorded; the visit took place
nn-visit-calendar = the working-day calendar does not cover the days after the assignment; operators add the year (calendar.extra_file)
nn-record-incomplete = the record form is not complete: every department records its findings first
nn-confirm-after-sign = the record form is confirmed after the target signs or refuses
nn-findings-missing = findings are missing
nn-not-signed = the target has neither signed nor refused
nn-not-confirmed = not confirmed by { $inspectors }
nn-transfer-state = the transfer is { $transfer_state }
nn-reroute-declined-only = only a declined transfer is routed elsewhere; this one is { $transfer_state }
nn-transfer-not-inspected = visit { $visit } is not concluded as inspected: transfers follow its findings

# More field violations: requests, visits, transfers, plans and tasks, draws, directories.
dates-max = at most { $max } dates
page-token = is not a token this service issued
not-a-target-kind = { $value } is not a known target kind
not-a-method = { $value } is not a known inspection method
key-or-general = must be KEY or GENERAL
departments-max = { $given } departments; at most { $max }
no-target = there is no target { $target }
no-inspector = there is no inspector { $inspector }
not-negative = must not be negative
entropy-max = at most { $max } bytes
witness-role = is required: whom the witness represents
draw-not-in-task = { $dept } does not take part in task { $task }
draw-lead-included = must include the lead department { $dept }, whose inspector leads every team
replacement-reason = must be job change, conflict of interest, health or recusal; nothing else allows a replacement
not-on-locked-list = is not on the locked list
not-on-team = does not sit on this team
lead-cancels = { $dept } leads this task: the lead cancels it instead of withdrawing
not-invited = { $dept } is not invited to this task
transfer-only-receiver = the transfer goes to { $dept }; only it answers
transfer-only-sender = { $dept } sent this transfer; only it routes it
transfer-other-receiver = name a receiver other than { $dept }
nobody-on-team = { $dept } has nobody on this visit's team
sha256 = the file's SHA-256: 64 lower-case hexadecimal digits
storage-ref = where the file is kept: a URI with a scheme (e.g. s3://bucket/key), no spaces, at most { $max } bytes
media-type = the file's media type, e.g. image/jpeg
check-item-needed = name the item of the check point
not-an-item-of = { $item } is not an item of { $dept } on this visit
not-a-check-point = { $code } is not a check point of { $item }
evidence-max = a visit keeps at most { $max } pieces of evidence
not-a-department-check-point = { $item }/{ $code } is not a check point of { $dept }'s items on this visit
answered-twice = { $item }/{ $code } is answered twice
note-for-problem = is required when a problem is found
check-not-answered = check point { $item }/{ $code } is not answered
refusal-note = note how the target refused
team-member-needed = name at least one team member
confirm-own-department = { $inspector } is not of { $dept }; their own department confirms
not-on-visit-team = { $inspector } is not on this visit's team
transfer-kind = a department (谁管辖、谁负责) or the judicial organs
transfer-answer = accept, decline or close
tasks-none = name at least one task
transfer-no-problem = { $dept } found no problem on { $item } at this visit
transfer-receiver = name the receiver, another department or the judicial organ
transfers-filter = name a task or a receiving department
extend-min = must be at least 1 to extend
not-a-known-value = { $value } is not a known value
task-type-required = is required: directed or undirected
industry-code = { $value } is not a GB/T 4754 section letter (A–T) followed by up to four digits
region-code = { $value } is not a GB/T 2260 region code
risk-level-twice = level { $level } appears twice
item-twice = item { $item } appears twice
item-not-in-catalog = { $item } is not in the catalog
item-not-published = item { $item } is not published in the catalog (no inspection outside it)
item-other-department = item { $item } belongs to { $owner_dept }, not to { $dept }: a department inspects its own items
item-method = item { $item } does not allow the method { $method }
item-kinds = item { $item } applies to none of the scope's kinds
item-cap = { $given_bp } is over the cap of item { $item } ({ $cap_bp })
no-entry = plan { $plan } (version { $version } in force) has no entry { $entry }; a task comes from a published entry
task-window = the window must lie within the entry's, { $start_day } to { $end_day }
task-department-not-in-entry = { $dept } does not take part in entry { $entry }
task-item-not-in-entry = item { $item } is not one of this department's items in entry { $entry }
task-lead-takes-part = the lead department { $dept } must take part
task-narrows = a task narrows its entry's scope, never widens it (entry { $entry })
entry-used-up = entry { $entry } has no targets left: its { $quantity } are given to other tasks
entry-left = at most { $left } targets are left in entry { $entry } ({ $quantity } in all)
frequency-range = must be between 1 and 12 inspections a year
no-plan = there is no plan { $plan }
correction-same = is the same as what is published
review-decision = approve, return or reject
results-none = name at least one result
at-most-at-once = at most { $max } at once
search-query = give a credit code, or at least two characters of a name
out-of-range = is out of range

snapshot-holder = is required: who keeps the snapshot, e.g. draw:TASK-…; at most 200 characters
not-a-record-file = is not a draw record file: { $error }
task-or-record = name a task, or send a record file in `record`

header-first = the first message must be the header
department-level = must be PROVINCE, CITY or COUNTY
level-twice = names a level already asked for
risk-level = must be a risk level (low, medium, medium high or high)
position-past-end = is { $given }, past the end of the level's { $count } ids
transfer-decline-why = say why it is not yours to handle
transfer-close-what = record what was done (处理结果)
report-year = give the year of the inspections, e.g. 2027
report-quarter = is 1 to 4, or 0 for the whole year

# Why an imported row is rejected (the row report).
import-header = the header row cannot be read
import-empty = the file is empty
import-malformed-csv = malformed CSV: { $error }
import-encoding = holds bytes that are not valid { $encoding } text
import-duplicate = duplicate of line { $first }: { $id } appears twice in the file
import-unknown-column = unknown column "{ $cell }"; the columns are { $known }
import-column-twice = column { $column } appears twice
import-column-missing = required column { $column } is missing
import-width = has { $fields } fields where the header has { $header } (a truncated or malformed row)
import-yes-no = "{ $value }" is not a yes/no value (1/0, true/false, 是/否)
import-not-one-of = "{ $value }" is not one of { $known }
import-too-long = is { $length } characters long; at most { $max }
import-operating-status = "{ $value }" is not operating, closed, liquidating or revoked
import-risk = "{ $value }" is not low, medium, medium_high or high
import-whole-number = "{ $value }" is not a whole number
import-id-differs = "{ $value }" differs from the credit code { $code }; leave it empty
import-credit-code-required = is required for this kind of target
import-credit-code-empty = must be empty for this kind of target; identify it by id
import-id-prefix = must be { $prefix } followed by letters, digits, '-' or '_', at most { $max } in all
import-inspector-id = must be 1–64 letters, digits, '-' or '_'
import-inspector-name = must be 1–50 characters
import-certificate = is required: no one without an enforcement certificate inspects
import-inspector-status = "{ $value }" is not active, on_leave, transferred or retired
industry-not-code = "{ $value }" is not a GB/T 4754 code (a section letter A–T and/or 2–4 digits)
industry-not-section = "{ $value }" is not a section of GB/T 4754 (A–T)
industry-no-division = division { $division } does not exist in GB/T 4754
industry-other-section = division { $division } belongs to section { $section }, not { $letter }
uscc-length = must be 18 characters, found { $found }
uscc-character = position { $position }: "{ $found }" is not allowed (digits and uppercase letters except I, O, S, V, Z)
uscc-region = position { $position }: "{ $found }" is not a digit (positions 3–8 are the region code)
uscc-organisation-check = position 17: the organisation code's check character should be "{ $expected }", found "{ $found }"
uscc-check = position 18: the check character should be "{ $expected }", found "{ $found }"

# The audit trail's check and listing.
audit-missing = entry { $seq } is missing (the next present is { $next })
audit-prev = its link to the previous entry does not match that entry's hash
audit-content = its content does not match its hash
audit-head = the chain's head does not match its last entry: entries were removed from the end
audit-entity-with-id = is required with entity_id
audit-until-after-since = must be after since

# Refusals for lack of a role or of the right department (PermissionDenied).
denied-role = needs the role { $role }
denied-item-owner = belongs to department { $dept }; a token of department { $by_dept } may not change it (only the owning department edits its items)
denied-draw-lead = only the lead department { $dept } with the role { $role } draws and locks
denied-replacement-head = a replacement needs the approval of the head ({ $role }) of { $dept }
denied-department = only department { $dept } may do this; you act for { $by_dept }
denied-meeting-role = only the joint meeting ({ $role }) decides on a plan
denied-own-plan = plan { $plan } is your own department's ({ $dept }); a member of the joint meeting from another department decides on it
denied-four-eyes-drafted = you ({ $who }) drafted plan { $plan }; under the four-eyes rule another person of the joint meeting decides on it
denied-four-eyes-submitted = you ({ $who }) submitted plan { $plan }; under the four-eyes rule another person of the joint meeting decides on it
denied-filing = an amendment is filed by the joint meeting ({ $meeting_role }) and the judicial department ({ $judicial_role }); you hold neither filing still missing
denied-visit-lead = only the lead department { $dept } does this
denied-saga-lead = only the lead department { $dept } reviews and steers this task
denied-result-owner = the result belongs to { $dept }: each department enters, reviews and publishes its own (谁检查、谁录入)
denied-result-reader = { $dept }'s results are read by that department or the joint meeting ({ $role })
denied-deliveries = the connector's deliveries are for operators ({ $role }) and the joint meeting
denied-recusal-head = only the head ({ $role }) of department { $dept } decides

# Roles, as the refusals name them.
role-catalog_editor = catalog.editor
role-catalog_publisher = catalog.publisher
role-directories_editor = directories.editor
role-planning_editor = planning.editor
role-planning_joint-meeting = planning.joint-meeting
role-planning_judicial = planning.judicial
role-draw_operator = draw.operator
role-inspection_coordinator = inspection.coordinator
role-inspection_member = inspection.member
role-publication_entry = publication.entry
role-publication_reviewer = publication.reviewer
role-publication_joint-meeting = publication.joint-meeting
role-department_head = department.head
role-audit_reader = audit.reader
role-admin = admin

# What is not there (NotFound).
nf-item = no item with code { $code }
nf-item-version = item { $code } has no version { $version }
nf-draw = no draw for task { $task }
nf-plan = no plan with id { $plan }
nf-plan-version = plan { $plan } has no version { $version }
nf-amendment = plan { $plan } has no amendment version { $version }
nf-task = no task with id { $task }
nf-saga = no saga for task { $task }
nf-visit = no visit { $visit }
nf-transfer = no transfer { $transfer }
nf-result = no result { $result }
nf-target = no target { $target }
nf-snapshot = no snapshot { $snapshot }
nf-recusal = no recusal request { $recusal }
draw-witnesses-required = this draw is witnessed: record at least one witness present
draw-witness-entropy-required = this draw is witnessed: the witnesses type their entropy before the draw
denied-draw-lists = the drawn list is not public: it is read by the departments taking part ({ $depts }), auditors and operators
nn-unpin-draw = { $holder } is a draw's pin: its record refers to the snapshot, which stays to verify it
denied-unpin = pinned by { $who }: only they (or an administrator) release the pin
denied-task-reader = task { $task } is read by the departments taking part ({ $depts }), the joint meeting, auditors and operators; you act for { $by_dept }
denied-visit-reader = visit { $visit } is read by the departments on its team ({ $depts }), the joint meeting, auditors and operators; you act for { $by_dept }
denied-transfer-reader = transfers are read by their sender and receiver, the task's lead, the joint meeting, auditors and operators
denied-target-source = the directory of targets is kept by { $depts } (the setting directories.target_sources); { $by_dept } reads it but does not import it
denied-inspector-department = an inspector of { $dept } is imported by that department only; you act for { $by_dept }
denied-inspector-other = inspector { $id } belongs to { $dept }: another department's inspector is not changed by your import
denied-export-scope = you export the targets your department regulates only: name { $dept } in departments, or leave it out
denied-own-sagas = you list the tasks your department takes part in only: leave the department out or name { $dept }
denied-own-transfers = you list the transfers your department sends or receives only: leave the department out or name { $dept }
denied-own-recusals = you list your own department's recusal requests only: leave the department out or name { $dept }
denied-four-eyes-result = you ({ $who }) entered this result; under the four-eyes rule another reviewer of the department decides on it
nn-withholding-pending = a request to withhold this result waits on the head: it is not published until the head decides
nn-withholding-none = nobody has asked to withhold this result: the person handling it asks, with the reason, and the head decides
denied-four-eyes-withholding = you ({ $who }) asked to withhold this result; under the four-eyes rule the head decides on another person's request
result-withhold-decline-reason = say why the result is published after all
import-record-too-long = this row runs on past { $kib } KiB (a quotation mark left open, or a field far too long); the rest of the file was not read
import-too-many-rows = the file has more than { $max } rows; this row and those after it were not read: split the file
import-workbook-entry = the workbook's part { $entry } would unpack to more than { $mib } MiB
import-workbook-ratio = the workbook's part { $entry } unpacks to more than { $ratio } times its packed size, as no spreadsheet does
import-workbook-strings = the workbook's shared strings claim { $claimed } entries but hold room for { $room } at most
import-workbook-parts = the workbook has more than { $max } parts
import-workbook-unreadable = not a readable XLSX workbook: { $error }
denied-visit-team = only the departments on the visit's team ({ $depts }) change it; you act for { $by_dept }
denied-member-unnamed = your sign-in names no inspector of the directories: an administrator links your account to your inspector id
denied-confirm-others = a member confirms only for themselves: you are { $own }, not { $inspector }
audit-anchor = entries { $from } to { $to } were rewritten: the chain's entry { $to } no longer matches the head the other services kept on { $day }
