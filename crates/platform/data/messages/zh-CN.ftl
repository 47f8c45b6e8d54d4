# 字段校验信息（中文）：页面在字段旁显示，与 en.ftl 的编号一一对应。

required = 必须填写
not-empty = 不能为空
at-most-chars = 不能超过 { $max } 个字符
longer-than = 超过了 { $max } 个字符
key-chars = 须为 1 至 32 个字符
key-letters = 只能包含字母、数字、“-”、“_”和“.”
code-letters = 只能包含英文字母、数字、“-”、“_”和“.”
appears-twice = { $value } 重复出现
not-a-date = { $value } 不是日期，请按“年-月-日”填写（如 2027-03-01）
year-range = 年度须在 2000 至 2100 之间

catalog-legal-basis = 至少填写一条法律依据（没有法律依据不得检查）
catalog-unknown-department = 未知部门 { $code }
catalog-kinds = 至少选择一类检查对象
catalog-kind-twice = 对象类型重复
catalog-cap-over = { $given_percent } 超过了本地区一般检查事项的抽查比例上限 { $cap_percent }
catalog-key-cap = 重点检查事项不设固定上限，但须明确填写抽查比例
catalog-cap-full = 不能超过 100%
catalog-frequency-min = 每年至少抽查 1 次
catalog-frequency-max = 每年不能超过 12 次
catalog-methods = 至少选择一种检查方式
catalog-checklist = 至少填写一个检查点
catalog-department-fixed = 实施部门为 { $code }，不能变更
catalog-retire-reason = 停用事项须说明理由

plan-entries-none = 计划至少包含一项抽查任务
plan-entries-max = 一个计划最多包含 { $max } 项抽查任务
plan-directed-scope = 定向抽查须确定抽查范围
plan-undirected-scope = 不定向抽查覆盖检查事项适用的全部对象，抽查范围应留空
plan-ratio-or-quantity = 请填写抽查比例或抽查数量
plan-not-both = 抽查比例和抽查数量只能填写一项
plan-ratio-max = 抽查比例不能超过 100%
plan-risk-range = 比例须在 0.01% 至 100% 之间
plan-risk-with-quantity = 按风险等级的比例只用于按比例抽查，按数量抽查时不能填写
plan-risk-order = 风险等级“{ $level }”的比例低于较低等级“{ $lower }”，风险越高比例应越高
plan-unknown-department = 没有代码为 { $code } 的在用部门
plan-lead-takes-part = 牵头部门 { $code } 须作为参加部门并确定检查事项
plan-department-twice = 部门 { $code } 重复出现
plan-items-none = 参加部门至少确定一个检查事项
plan-window-year = 实施期限须在 { $year } 年内
plan-window-order = 结束日期不能早于开始日期
plan-year-fixed = 本计划为 { $year } 年度，年度不能变更

result-codes-none = 至少选择一个检查结果代码
result-code-unknown = 结果代码表 { $table } 中没有代码 { $code }
result-code-retired = 代码 { $code }（{ $text }）在结果代码表 { $table } 中已停用
result-code-contradicts = 代码 { $code }（{ $text }）与检查记录不符：检查发现了问题（{ $problems }）
result-code-outcome = 代码 { $code }（{ $text }）不适用于{ $outcome ->
    [not_found] 通过登记的住所无法联系的
    [closed] 已关闭停业的
   *[other] 本次检查情况下的
}检查对象
result-code-alone = 代码 { $code }（{ $text }）只能单独使用
result-disposal-needed = 发现问题须确定后续处置：责令整改、立案查处、移送或通报
result-disposal-none = 没有代码表明存在问题，无需后续处置
result-department-needed = 请确定负责处置的部门（谁管辖、谁负责）
result-department-extra = 只有移送或通报才需确定部门
result-review-reason = 退回或不予通过须说明理由
result-withhold-reason = 暂不公示须说明不能公开的理由
result-correction-reason = 更正须说明理由
result-unknown-department = 没有代码为 { $code } 的部门

reason-decline = 不参加须说明理由
reason-withdraw = 退出须说明理由
reason-proceed = 不等该部门继续进行须说明理由
reason-cancel = 取消任务须说明理由
extend-later = 延长后的期限须晚于原期限
visit-before-assignment = 早于检查组组成之日（{ $day }）
visit-too-late = 晚于 { $day }：应在检查组组成后 5 个工作日内实施检查
not-a-working-day = 不是工作日
evidence-empty = 文件为空
record-signed-or-refused = 请填写签字人或拒绝签字的情况说明，二者选一

recusal-why = 回避申请须说明检查对象申请回避的理由
recusal-reject-why = 不同意回避须说明理由

# 联合抽查的时间线（saga 的历史）和等待的原因。以 `dept`、`depts` 结尾的参数是部门，显示为名称；以 `day` 结尾的是日期。
phase-inviting = 邀请中
phase-drawing_targets = 抽取检查对象中
phase-reviewing_targets = 审核检查对象中
phase-locking = 锁定中
phase-assigning_inspectors = 抽取检查人员中
phase-scheduling = 安排检查中
phase-visiting = 实施检查中
phase-results = 结果录入中
phase-follow_up = 后续处置中
phase-closed = 已结束
phase-cancelled = 已取消
calendar-year-not-covered = 工作日历尚未包含 { $year } 年：请将该年国务院办公厅的放假通知加入 calendar.extra_file
tl-saga-started-alone = 没有需要邀请的其他部门
tl-saga-started = 已邀请{ $depts }在{ $day }前答复
tl-saga-started-undated = 已邀请{ $depts }；无法确定答复期限
att-invite-uncounted = 无法计算邀请的答复期限
tl-invitation-confirmed = { $dept }确认参加
tl-invitation-declined = { $dept }不参加：{ $reason }
tl-targets-drawn = 已抽取 { $count } 个检查对象，待牵头部门审核
tl-targets-approved = { $by } 审核通过 { $count } 个检查对象
tl-targets-locked = 已锁定 { $count } 个检查对象，请{ $depts }抽取检查人员
tl-teams-drawn = 已组成 { $count } 个检查组，待安排检查
tl-teams-uncounted = 无法计算检查的最后期限
att-schedule-uncounted = 无法计算检查的最后期限；请运维人员加载该年度的工作日历（calendar.extra_file，然后执行 suiji calendar reload）
tl-schedule-counted = 已按加载的工作日历计算检查的最后期限
att-command-failed = { $code }：{ $reason }
tl-command-failed = { $command } 失败（{ $code }）：{ $reason }
tl-results-final-closed = 全部 { $results } 条结果已公示或决定不予公示；无需后续处置，任务结束
tl-results-final-follow-up = 全部 { $results } 条结果已公示或决定不予公示；{ $open } 件移送待跟进
tl-visit-progress = 已安排 { $scheduled }/{ $total } 户，已完成 { $concluded } 户
tl-reminded = 答复期限已过，已提醒{ $depts }，{ $day }提请牵头部门决定
att-no-answer = { $depts }未答复
tl-escalated = { $depts }未答复；由{ $lead_dept }的协调人决定
tl-transfers-closed = 移送均已办结，任务结束
tl-follow-up-reopened = 重新进入后续处置
tl-withdrawn-released = { $dept }退出：{ $reason }；其检查人员已释放，其检查事项已从尚未完成的检查中移除
tl-withdrawn = { $dept }在组队前退出：{ $reason }
tl-steer-remind = 已提醒{ $depts }
tl-steer-extend = 答复期限延长至{ $day }
tl-steer-proceed = 不等待{ $depts }，继续进行：{ $reason }
tl-steer-pause = 已暂停
tl-steer-resume = 已恢复；{ $held ->
    [0] 暂停期间没有保留的指令
   *[other] 发出暂停期间保留的 { $held } 条指令
}
tl-cancelled = 在{ $phase }阶段取消：{ $reason }；已抽取或锁定的内容保留在案
tl-steer-retry = 重新发出 { $command }，此前：
deadline-invite = 答复期限
deadline-visit = 检查的最后期限
deadline-due = 办理期限
due-stays = { $deadline }仍为{ $old_day }，{ $final ->
    [yes] 现已确定
   *[no] 仍为暂定
}
due-moved = { $deadline }由{ $old_day }改为{ $new_day }（{ $final ->
    [yes] 已确定
   *[no] 仍为暂定
}）
due-counted = { $deadline }计算为{ $new_day }（{ $final ->
    [yes] 已确定
   *[no] 暂定
}）
due-visit-stays = { $visit }：{ $deadline }仍为{ $old_day }，{ $final ->
    [yes] 现已确定
   *[no] 仍为暂定
}
due-visit-moved = { $visit }：{ $deadline }由{ $old_day }改为{ $new_day }（{ $final ->
    [yes] 已确定
   *[no] 仍为暂定
}）
due-visit-counted = { $visit }：{ $deadline }计算为{ $new_day }（{ $final ->
    [yes] 已确定
   *[no] 暂定
}）
late-cancelled = 该联合抽查已取消
late-expected = { $what ->
    [targets_drawn] 检查对象已抽取
    [targets_locked] 检查对象已锁定
   *[teams_drawn] 检查组已组成
}，但该联合抽查正处于{ $phase }阶段
late-schedule = 并未等待计算检查的最后期限
late-command = { $command } 失败，但该联合抽查已不再等待它
late-results-final = 结果已全部办结，但该联合抽查正处于{ $phase }阶段：还有检查或结果未完成
late-answered = { $dept }在邀请结束后才答复
late-timer-closed = { $timer } 在邀请结束后触发
late-timer-paused = { $timer } 在暂停期间触发
tl-transfer-created = { $transfer }：{ $from_dept }移送{ $to_dept }
tl-transfer-judicial = { $transfer }：{ $from_dept }将涉嫌犯罪线索移送司法机关{ $to_dept }
tl-transfer-published = { $transfer }：{ $from_dept }随公示的结果移送{ $to_dept }
tl-transfer-answered = { $transfer }：{ $dept }{ $answer ->
    [accepted] 已接收
    [declined] 不予接收
   *[closed] 已办结
}
tl-transfer-rerouted = { $transfer }：改送{ $to_dept }
tr-created = 移送{ $to_dept }
tr-created-published = 随公示的结果移送{ $to_dept }
tr-rerouted = { $from_dept } → { $to_dept }
tl-visit-replaced = { $visit }：{ $replaced } 由 { $replacement } 替换（{ $dept }）：{ $note }
tl-visit-scheduled = { $visit }：安排于{ $day }检查，{ $announced ->
    [yes] 事先告知
   *[no] 不事先告知
}
tl-visit-findings = { $visit }：{ $dept }录入检查情况（发现问题 { $problems } 项）
tl-visit-signed = { $visit }：检查记录表已由 { $by } 签字
tl-visit-sign-refused = { $visit }：检查对象拒绝签字：{ $note }
tl-visit-confirmed = { $visit }：{ $inspectors } 已确认检查记录
tl-visit-evidence = { $visit }：{ $dept }上传{ $whole ->
    [yes] 本次检查
   *[no] { $on }
}的证据：{ $description }（{ $media_type }，{ $bytes } 字节，sha256 { $sha256 }）
tl-visit-concluded = { $visit }：检查结束，{ $outcome ->
    [inspected] 已实施检查
    [not_found] 通过登记的住所无法联系
   *[closed] 已关闭
}

# 检查结果的历史。
rh-created = 检查 { $visit } 结束：{ $outcome ->
    [inspected] 已实施检查
    [not_found] 通过登记的住所无法联系
    [closed] 已关闭
   *[other] { $outcome }
}
rh-due-uncounted = 无法计算办理期限

# 当前不能进行某一步的原因（FailedPrecondition）。以 `plan_state`、`task_state`、`result_state`、`transfer_state`、
# `recusal_state`、`draw_state` 结尾的参数是状态，显示为下面的名称。
plan_state-draft = 草稿
plan_state-submitted = 已提交
plan_state-approved = 已批准
plan_state-published = 已发布
task_state-created = 已创建
task_state-launched = 已启动
task_state-cancelled = 已取消
result_state-not_entered = 未录入
result_state-awaiting_review = 待审核
result_state-returned = 已退回
result_state-rejected = 审核未通过
result_state-approved = 审核通过
result_state-published = 已公示
result_state-withheld = 不予公示
transfer_state-open = 待接收
transfer_state-accepted = 已接收
transfer_state-declined = 已拒收
transfer_state-closed = 已办结
recusal_state-pending = 待决定
recusal_state-accepted = 同意回避
recusal_state-rejected = 不同意回避
draw_state-committed = 已承诺
draw_state-targets_drawn = 已抽取检查对象
draw_state-targets_locked = 已锁定检查对象
draw_state-teams_drawn = 已组成检查组
draw_state-cancelled = 已取消
nn-item-retired-edit = 该事项已废止，废止的事项不能再修改
nn-item-retired = 该事项已废止
nn-no-draft = 没有待发布的草稿；第 { $version } 版已在施行
nn-item-never-published = 该事项从未发布；只有已发布的事项才能废止
nn-item-already-retired = 该事项已废止
nn-item-changed = 该事项在打开后已被他人修改（现为第 { $now } 次修订，打开时为第 { $expected } 次）；请重新打开后再操作
nn-draw-state = 任务 { $task } 不能{ $doing ->
    [draw_targets] 抽取检查对象
    [lock] 锁定抽取结果
    [draw_inspectors] 抽取检查人员
   *[replace] 替换检查人员
}：其抽取记录当前为{ $draw_state }
nn-team-too-small = 每个检查组将只有 { $size } 名检查人员，至少需要 { $min } 名
nn-teams-cannot = 无法抽取检查组
nn-no-replacement = { $dept }没有其他符合条件的检查人员可以替补
nn-plan-edit = 计划 { $plan } 当前为{ $plan_state }；只有草稿可以修改（已发布的计划通过调整变更）
nn-plan-submit = 计划 { $plan } 当前为{ $plan_state }；只有草稿可以提交
nn-plan-return = 计划 { $plan } 当前为{ $plan_state }；只有已提交的计划可以退回
nn-plan-approve = 计划 { $plan } 当前为{ $plan_state }；只有已提交的计划可以批准
nn-plan-publish = 计划 { $plan } 当前为{ $plan_state }；只有联席会议批准的计划可以发布
nn-plan-amend = 计划 { $plan } 当前为{ $plan_state }；尚未发布的计划直接修改，无需调整
nn-amendment-pending = 计划 { $plan } 已有待发布的第 { $version } 版调整；请先发布
nn-not-proposed-amendment = 计划 { $plan } 的第 { $version } 版不是拟议的调整
nn-amendment-not-filed = 第 { $version } 版调整尚未向{ $with ->
    [both] 联席会议和司法行政部门
    [joint_meeting] 联席会议
   *[judicial] 司法行政部门
}备案
nn-not-pending-amendment = 计划 { $plan } 的第 { $version } 版不是待发布的调整
nn-plan-tasks = 计划 { $plan } 当前为{ $plan_state }；只有已发布的计划才能生成任务
nn-task-launch = 任务 { $task } 当前为{ $task_state }；只有已创建的任务可以启动
nn-task-window-ended = 任务 { $task } 的实施期已于{ $end_day }结束，不能再启动
nn-task-cancelled = 任务 { $task } 已取消
nn-item-unpublished = 事项 { $item } 已不再在事项清单中发布；请调整计划或取消任务
nn-result-approved-edit = 该结果已审核通过：请公示，或决定不予公示
nn-result-published-edit = 该结果已公示：只能经主要负责人同意后更正，不能直接修改
nn-result-withheld = 该结果已决定不予公示并归档
nn-result-not-awaiting = 该结果当前为{ $result_state }，不在待审核状态
nn-result-publish = 只有审核通过的结果才能公示；该结果当前为{ $result_state }
nn-result-published-withhold = 该结果已公示：可以更正，但不能撤回公示
nn-result-withheld-already = 该结果已决定不予公示
nn-result-not-entered = 该结果尚未录入：请先录入，以便归档保存检查发现的情况
nn-result-correct-unpublished = 只有已公示的结果才能更正；公示前应退回后重新录入
nn-recusal-decided = 该回避申请已有决定：{ $recusal_state }
nn-invitations-closed = 邀请已结束
nn-no-deadline = 没有需要重新计算的期限
nn-deadline-not-provisional = 当前期限不是被重新计算的暂定期限
nn-not-reviewing = 该联合抽查正处于{ $phase }阶段，不在审核检查对象阶段
nn-not-visiting = 该联合抽查正处于{ $phase }阶段，不在实施检查阶段
nn-answered-already = { $dept }已经答复
nn-not-taking-part = { $dept }未参加
nn-teams-being-drawn = 正在抽取检查组；请在组队完成后再退出
nn-visits-over = 该联合抽查正处于{ $phase }阶段：检查已结束
nn-nobody-to-remind = 没有等待答复的部门
nn-already-paused = 已经暂停
nn-not-paused = 未暂停
nn-nothing-failed = 没有失败的步骤
nn-not-retriable = { $step } 不是可以重试的步骤；请延长期限、不再等待或取消
nn-visit-concluded = 检查 { $visit } 已结束
nn-visit-not-scheduled = 该检查尚未安排
nn-findings-recorded = 已录入检查情况，检查已实施
nn-visit-calendar = 工作日历未包含组队之后的日期；请运维人员加入该年度（calendar.extra_file）
nn-record-incomplete = 检查记录表尚不完整：各部门须先录入检查情况
nn-confirm-after-sign = 检查对象签字或拒绝签字后才能确认检查记录表
nn-findings-missing = 尚有检查情况未录入
nn-not-signed = 检查对象尚未签字，也未拒绝签字
nn-not-confirmed = { $inspectors } 尚未确认
nn-transfer-state = 该移送当前为{ $transfer_state }
nn-reroute-declined-only = 只有被拒收的移送才能改送；该移送当前为{ $transfer_state }
nn-transfer-not-inspected = 检查 { $visit } 未以“已实施检查”结束：移送须依据检查发现的问题

# 更多字段错误：请求、检查、移送、计划与任务、抽取、两库。
dates-max = 至多 { $max } 个日期
page-token = 不是本服务给出的翻页标记
not-a-target-kind = { $value } 不是已知的检查对象类型
not-a-method = { $value } 不是已知的检查方式
key-or-general = 须为重点检查事项或一般检查事项
departments-max = { $given } 个部门；至多 { $max } 个
no-target = 没有检查对象 { $target }
no-inspector = 没有检查人员 { $inspector }
not-negative = 不能为负数
entropy-max = 不能超过 { $max } 字节
witness-role = 必填：见证人代表哪一方
draw-not-in-task = { $dept }未参加任务 { $task }
draw-lead-included = 须包括牵头部门{ $dept }，每个检查组由其检查人员担任组长
replacement-reason = 须为工作调动、利害关系、身体原因或回避；其他原因不能替换
not-on-locked-list = 不在已锁定的名单中
not-on-team = 不在该检查组中
lead-cancels = { $dept }是本任务的牵头部门：牵头部门应取消任务，而不是退出
not-invited = { $dept }未被邀请参加本任务
transfer-only-receiver = 该移送的接收方是{ $dept }，只有接收方可以答复
transfer-only-sender = 该移送由{ $dept }发出，只有发出方可以改送
transfer-other-receiver = 请指定{ $dept }以外的接收方
nobody-on-team = { $dept }在本次检查的检查组中没有人员
sha256 = 文件的 SHA-256：64 位小写十六进制数字
storage-ref = 文件的存放位置：带协议的 URI（如 s3://bucket/key），不含空格，不超过 { $max } 字节
media-type = 文件的媒体类型，如 image/jpeg
check-item-needed = 请指定检查要点所属的事项
not-an-item-of = { $item } 不是{ $dept }在本次检查中的事项
not-a-check-point = { $code } 不是事项 { $item } 的检查要点
evidence-max = 每次检查至多保存 { $max } 份证据
not-a-department-check-point = { $item }/{ $code } 不是{ $dept }在本次检查中的检查要点
answered-twice = { $item }/{ $code } 填写了两次
note-for-problem = 发现问题时必须填写说明
check-not-answered = 检查要点 { $item }/{ $code } 尚未填写
refusal-note = 请记录检查对象拒绝签字的情况
team-member-needed = 请至少选择一名检查组成员
confirm-own-department = { $inspector } 不属于{ $dept }；由其所在部门确认
not-on-visit-team = { $inspector } 不在本次检查的检查组中
transfer-kind = 须为有关部门（谁管辖、谁负责）或司法机关
transfer-answer = 须为接收、拒收或办结
tasks-none = 请至少选择一个任务
transfer-no-problem = { $dept }在本次检查中未发现事项 { $item } 的问题
transfer-receiver = 请指定接收方：其他部门或司法机关
transfers-filter = 请指定任务或接收部门
extend-min = 延长期限至少为 1 个工作日
not-a-known-value = { $value } 不是可选的值
task-type-required = 必填：定向或不定向
industry-code = { $value } 不是国民经济行业分类（GB/T 4754）代码：一个门类字母（A–T）加至多四位数字
region-code = { $value } 不是行政区划代码（GB/T 2260）
risk-level-twice = 风险等级 { $level } 出现了两次
item-twice = 事项 { $item } 出现了两次
item-not-in-catalog = { $item } 不在事项清单中
item-not-published = 事项 { $item } 未在事项清单中发布（清单之外不得检查）
item-other-department = 事项 { $item } 属于{ $owner_dept }，不属于{ $dept }：各部门只检查本部门的事项
item-method = 事项 { $item } 不允许采用检查方式 { $method }
item-kinds = 事项 { $item } 不适用于检查范围内的任何对象类型
item-cap = { $given_bp } 超过了事项 { $item } 的比例上限 { $cap_bp }
no-entry = 计划 { $plan }（现行第 { $version } 版）没有条目 { $entry }；任务须来自已发布的条目
task-window = 实施期须在条目的实施期之内：{ $start_day }至{ $end_day }
task-department-not-in-entry = { $dept }未参加条目 { $entry }
task-item-not-in-entry = 事项 { $item } 不是本部门在条目 { $entry } 中的事项
task-lead-takes-part = 牵头部门{ $dept }必须参加
task-narrows = 任务只能缩小条目的检查范围，不能扩大（条目 { $entry }）
entry-used-up = 条目 { $entry } 已没有剩余的检查对象：其 { $quantity } 户已分配给其他任务
entry-left = 条目 { $entry } 至多还剩 { $left } 户（共 { $quantity } 户）
frequency-range = 须为每年 1 至 12 次
no-plan = 没有计划 { $plan }
correction-same = 与已公示的内容相同
review-decision = 须为通过、退回或不通过
results-none = 请至少选择一条结果
at-most-at-once = 一次至多 { $max } 条
search-query = 请输入统一社会信用代码，或名称中至少两个字
out-of-range = 超出范围

snapshot-holder = 必填：由谁保留该快照，如 draw:TASK-…；不超过 200 个字符
not-a-record-file = 不是抽取记录文件：{ $error }
task-or-record = 请指定任务，或在 `record` 中上传抽取记录文件

header-first = 第一条消息必须是文件头
department-level = 须为省级、市级或县级
level-twice = 该等级已经指定过
risk-level = 须为风险等级（低、中、较高或高）
position-past-end = 为 { $given }，超出该等级的 { $count } 个编号
transfer-decline-why = 请说明不属于本部门办理的理由
transfer-close-what = 请填写处理结果
report-year = 请填写检查的年度，如 2027
report-quarter = 须为 1 至 4，或 0 表示全年

# 导入时某一行被拒绝的原因（行号报告）。
import-header = 无法读取表头
import-empty = 文件为空
import-malformed-csv = CSV 格式有误：{ $error }
import-encoding = 含有不是有效 { $encoding } 文本的字节
import-duplicate = 与第 { $first } 行重复：{ $id } 在文件中出现了两次
import-unknown-column = 未知的列“{ $cell }”；可用的列为 { $known }
import-column-twice = 列 { $column } 出现了两次
import-column-missing = 缺少必需的列 { $column }
import-width = 有 { $fields } 个字段，而表头有 { $header } 个（该行被截断或格式有误）
import-yes-no = “{ $value }”不是“是/否”的取值（1/0、true/false、是/否）
import-not-one-of = “{ $value }”不是以下之一：{ $known }
import-too-long = 长度为 { $length } 个字符；至多 { $max } 个
import-operating-status = “{ $value }”不是经营状态（operating 在营、closed 关闭、liquidating 清算、revoked 吊销）
import-risk = “{ $value }”不是风险等级（low 低、medium 中、medium_high 较高、high 高）
import-whole-number = “{ $value }”不是整数
import-id-differs = “{ $value }”与统一社会信用代码 { $code } 不一致；请留空
import-credit-code-required = 此类检查对象必须填写统一社会信用代码
import-credit-code-empty = 此类检查对象不填写统一社会信用代码，以编号识别
import-id-prefix = 须为 { $prefix } 加字母、数字、“-”或“_”，总长不超过 { $max }
import-inspector-id = 须为 1–64 位字母、数字、“-”或“_”
import-inspector-name = 须为 1–50 个字符
import-certificate = 必填：没有行政执法证件的人员不得参加检查
import-inspector-status = “{ $value }”不是人员状态（active 在岗、on_leave 休假、transferred 调离、retired 退休）
industry-not-code = “{ $value }”不是国民经济行业分类（GB/T 4754）代码（门类字母 A–T 和/或 2–4 位数字）
industry-not-section = “{ $value }”不是国民经济行业分类（GB/T 4754）的门类（A–T）
industry-no-division = 国民经济行业分类（GB/T 4754）中没有大类 { $division }
industry-other-section = 大类 { $division } 属于门类 { $section }，不属于 { $letter }
uscc-length = 须为 18 位，实际为 { $found } 位
uscc-character = 第 { $position } 位：“{ $found }”不允许使用（只能是数字和除 I、O、S、V、Z 外的大写字母）
uscc-region = 第 { $position } 位：“{ $found }”不是数字（第 3–8 位是行政区划代码）
uscc-organisation-check = 第 17 位：组织机构代码的校验码应为“{ $expected }”，实际为“{ $found }”
uscc-check = 第 18 位：校验码应为“{ $expected }”，实际为“{ $found }”

# 审计链的核验与查阅。
audit-missing = 第 { $seq } 条记录缺失（其后现存的是第 { $next } 条）
audit-prev = 与前一条记录的链接不符：前一条的哈希值不同
audit-content = 内容与其哈希值不符
audit-head = 链头与最后一条记录不符：末尾的记录被删除
audit-entity-with-id = 按编号查询时须同时给出对象类型
audit-until-after-since = 须晚于起始时间

# 因缺少角色或不属于本部门而拒绝（PermissionDenied）。
denied-role = 需要“{ $role }”角色
denied-item-owner = 属于{ $dept }；{ $by_dept }不能修改（事项只由所属部门编辑）
denied-draw-lead = 只有牵头部门{ $dept }具有“{ $role }”角色的人员才能抽取和锁定
denied-replacement-head = 更换检查人员须经{ $dept }负责人（{ $role }）批准
denied-department = 只有{ $dept }可以办理；您代表的是{ $by_dept }
denied-meeting-role = 只有联席会议（{ $role }）才能审议计划
denied-own-plan = 计划 { $plan } 是本部门（{ $dept }）的，须由联席会议其他部门的成员审议
denied-four-eyes-drafted = 您（{ $who }）起草了计划 { $plan }，按双人原则须由联席会议的另一人审议
denied-four-eyes-submitted = 您（{ $who }）提交了计划 { $plan }，按双人原则须由联席会议的另一人审议
denied-filing = 计划调整由联席会议（{ $meeting_role }）和司法部门（{ $judicial_role }）备案；您不具备尚缺的任何一项备案
denied-visit-lead = 只有牵头部门{ $dept }可以办理
denied-saga-lead = 只有牵头部门{ $dept }审核和调度本任务
denied-result-owner = 该结果属于{ $dept }：谁检查、谁录入，各部门录入、审核和公示本部门的结果
denied-result-reader = { $dept }的结果只由本部门或联席会议（{ $role }）查阅
denied-deliveries = 推送记录只供系统管理员（{ $role }）和联席会议查阅
denied-recusal-head = 只有{ $dept }的负责人（{ $role }）可以决定

# 拒绝理由中的角色名称。
role-catalog_editor = 事项编辑
role-catalog_publisher = 事项公布
role-directories_editor = 两库维护
role-planning_editor = 计划编制
role-planning_joint-meeting = 联席会议（计划审批）
role-planning_judicial = 司法部门（计划备案）
role-draw_operator = 抽取操作
role-inspection_coordinator = 检查协调
role-inspection_member = 检查组成员
role-publication_entry = 结果录入
role-publication_reviewer = 结果审核
role-publication_joint-meeting = 联席会议（结果）
role-department_head = 部门负责人
role-audit_reader = 审计查阅
role-admin = 系统管理员

# 查无此项（NotFound）。
nf-item = 没有代码为 { $code } 的检查事项
nf-item-version = 检查事项 { $code } 没有第 { $version } 版
nf-draw = 任务 { $task } 没有抽取记录
nf-plan = 没有编号为 { $plan } 的计划
nf-plan-version = 计划 { $plan } 没有第 { $version } 版
nf-amendment = 计划 { $plan } 没有第 { $version } 版调整
nf-task = 没有编号为 { $task } 的任务
nf-saga = 任务 { $task } 没有联合检查记录
nf-visit = 没有检查 { $visit }
nf-transfer = 没有移送 { $transfer }
nf-result = 没有检查结果 { $result }
nf-target = 没有检查对象 { $target }
nf-snapshot = 没有名单快照 { $snapshot }
nf-recusal = 没有回避申请 { $recusal }
draw-witnesses-required = 本次为见证抽取：请登记至少一名在场见证人
draw-witness-entropy-required = 本次为见证抽取：须由见证人在抽取前录入随机数
denied-draw-lists = 抽取名单未公示：只由参加部门（{ $depts }）、审计人员和系统管理员查阅
nn-unpin-draw = { $holder } 是抽取记录的固定：抽取记录引用该名单快照，须保留以供核验
denied-unpin = 由 { $who } 固定：只有固定者本人（或系统管理员）可以解除
denied-task-reader = 任务 { $task } 只由参加部门（{ $depts }）、联席会议、审计人员和系统管理员查阅；您代表的是{ $by_dept }
denied-visit-reader = 检查 { $visit } 只由检查组所在部门（{ $depts }）、联席会议、审计人员和系统管理员查阅；您代表的是{ $by_dept }
denied-transfer-reader = 移送只由移送部门、接收部门、任务牵头部门、联席会议、审计人员和系统管理员查阅
denied-target-source = 检查对象名录由{ $depts }维护（设置项 directories.target_sources）；{ $by_dept }可以查阅，不能导入
denied-inspector-department = { $dept }的执法检查人员只能由本部门导入；您代表的是{ $by_dept }
denied-inspector-other = 执法检查人员 { $id } 属于{ $dept }：本次导入不能修改其他部门的人员
denied-export-scope = 只能导出本部门监管的检查对象：部门填写{ $dept }，或不填
denied-own-sagas = 只能列出本部门参加的任务：不填部门，或填写{ $dept }
denied-own-transfers = 只能列出本部门移送或接收的移送：不填部门，或填写{ $dept }
denied-own-recusals = 只能列出本部门的回避申请：不填部门，或填写{ $dept }
denied-four-eyes-result = 此结果由您（{ $who }）录入；按双人审核规则，须由本部门另一名审核人审核
nn-withholding-pending = 不予公示申请正待主要负责人决定：决定前不公示
nn-withholding-none = 尚无人申请不予公示：由经办人说明理由提出申请，主要负责人决定
denied-four-eyes-withholding = 不予公示申请由您（{ $who }）提出；按双人审核规则，主要负责人只决定他人提出的申请
result-withhold-decline-reason = 请说明为何仍予公示
import-record-too-long = 此行超过 { $kib } KiB（引号未闭合，或某一字段过长）；文件其余部分未读取
import-too-many-rows = 文件超过 { $max } 行；本行及以后各行未读取：请拆分文件
import-workbook-entry = 工作簿的组成部分 { $entry } 解压后超过 { $mib } MiB
import-workbook-ratio = 工作簿的组成部分 { $entry } 解压后超过压缩大小的 { $ratio } 倍，不是正常的电子表格
import-workbook-strings = 工作簿的共享字符串声称有 { $claimed } 项，但最多只能容纳 { $room } 项
import-workbook-parts = 工作簿的组成部分超过 { $max } 个
import-workbook-unreadable = 不是可读取的 XLSX 工作簿：{ $error }
denied-visit-team = 只有检查组所在部门（{ $depts }）可以办理此检查；您代表的是{ $by_dept }
denied-member-unnamed = 您的登录未关联执法人员名录中的人员：请管理员为账户填写您的执法人员编号
denied-confirm-others = 检查人员只能本人确认：您是{ $own }，不是{ $inspector }
audit-anchor = 第 { $from } 至 { $to } 条记录被改写：第 { $to } 条与其他服务于{ $day }留存的链头不符
