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
