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
