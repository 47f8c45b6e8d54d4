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
plan-risk-order = level { $level } gets { $points } basis points, less than the lower level { $lower } ({ $lower_points })
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
