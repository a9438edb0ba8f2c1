"""What each kind of notification says, in Chinese and English.

A notification stores its kind and parameters, not its text, so that each reader sees it in their
own language, in the inbox and in e-mail alike. A message is a subject and body lines with
`{name}` placeholders; a body line naming a parameter the notification does not carry is left
out (a due date, a comment). A parameter given as a label, {"zh": …, "en": …}, is shown in the
reader's language, like labels from the configuration.

A new kind of notification is one more entry in MESSAGES.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from dataclasses import dataclass

LANGUAGES = ("zh", "en")
#: what ends a line (CR, LF and the other breaks `str.splitlines` knows): never inside a subject,
#: which becomes an e-mail header — a name with a newline must not fail a message or add a header
LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


@dataclass(frozen=True)
class Message:
    subject: dict[str, str]
    body: dict[str, tuple[str, ...]]


def _message(subject_zh: str, subject_en: str, body_zh: tuple[str, ...], body_en: tuple[str, ...]) -> Message:
    return Message({"zh": subject_zh, "en": subject_en}, {"zh": body_zh, "en": body_en})


MESSAGES: dict[str, Message] = {
    "review.waiting": _message(
        "待您处理:{employee} {period} 的绩效考核表",
        "Waiting for you: {employee}'s scorecard for {period}",
        ("当前步骤:{step}。", "截止时间:{due_at}。"),
        ("It is at the step {step}.", "Due by {due_at}."),
    ),
    "review.rejected": _message(
        "已驳回:{employee} {period} 的绩效考核表",
        "Rejected: {employee}'s scorecard for {period}",
        ("{by} 在“{from_step}”驳回,退回到“{step}”。", "意见:{comment}"),
        ("{by} rejected it at {from_step}; it is back at {step}.", "Comment: {comment}"),
    ),
    "review.returned": _message(
        "已退回:{employee} {period} 的绩效考核表",
        "Returned: {employee}'s scorecard for {period}",
        ("{by} 在“{from_step}”将其退回到第一步“{step}”。", "意见:{comment}"),
        ("{by} returned it from {from_step} to the first step, {step}.", "Comment: {comment}"),
    ),
    "review.approved": _message(
        "已通过:{employee} {period} 的绩效考核表",
        "Approved: {employee}'s scorecard for {period}",
        ("审批流程的每一步都已完成。",),
        ("Every step of its approval is done.",),
    ),
    "review.locked": _message(
        "已锁定:{employee} {period} 的绩效考核表",
        "Locked: {employee}'s scorecard for {period}",
        ("{by} 锁定了结果:重新评估不会再改变它。",),
        ("{by} locked it: it is final, and reruns keep it.",),
    ),
    "review.reopened": _message(
        "已重新打开:{employee} {period} 的绩效考核表",
        "Reopened: {employee}'s scorecard for {period}",
        ("{by} 重新打开了它,原因:{comment}", "当前步骤:{step}。"),
        ("{by} reopened it: {comment}", "It is at the step {step}."),
    ),
    "review.due_soon": _message(
        "即将到期:{employee} {period} 的绩效考核表",
        "Due soon: {employee}'s scorecard for {period}",
        ("步骤“{step}”的截止时间是 {due_at}。",),
        ("The step {step} is due by {due_at}.",),
    ),
    "review.overdue": _message(
        "已逾期:{employee} {period} 的绩效考核表",
        "Overdue: {employee}'s scorecard for {period}",
        ("步骤“{step}”已于 {due_at} 到期,仍在等待您处理。",),
        ("The step {step} was due by {due_at} and still waits for you.",),
    ),
    "review.recomputed": _message(
        "需重新审批:{employee} {period} 的绩效考核表",
        "To approve again: {employee}'s scorecard for {period}",
        ("重新评估改变了已通过的结果:{comment}", "当前步骤:{step}。"),
        ("A rerun changed its approved numbers: {comment}", "It is at the step {step}."),
    ),
    "dispute.raised": _message(
        "新申诉:{employee} {period} 的“{item}”",
        "New dispute: {employee} on {item} for {period}",
        ("申诉理由:{reason}",),
        ("Reason: {reason}",),
    ),
    "dispute.accepted": _message(
        "申诉已受理:{period} 的“{item}”",
        "Dispute accepted: {item} for {period}",
        ("{by} 受理了您的申诉:{resolution}", "总分:{total_before} → {total_after}。"),
        ("{by} accepted your dispute: {resolution}", "Total: {total_before} → {total_after}."),
    ),
    "dispute.rejected": _message(
        "申诉未予受理:{period} 的“{item}”",
        "Dispute rejected: {item} for {period}",
        ("{by} 未受理您的申诉,理由:{resolution}",),
        ("{by} rejected your dispute: {resolution}",),
    ),
    "dispute.withdrawn": _message(
        "申诉已撤回:{employee} {period} 的“{item}”",
        "Dispute withdrawn: {employee} on {item} for {period}",
        ("员工撤回了申诉,无需处理。",),
        ("The employee withdrew it: nothing to resolve.",),
    ),
    "feedback.requested": _message(
        "请您评价同事:{employee} {period}",
        "Your feedback, please: {employee} for {period}",
        ("{by} 请您填写“{form}”。", "截止日期:{due_on}。"),
        ("{by} asks you to fill in the {form}.", "Due on {due_on}."),
    ),
    "feedback.proposed": _message(
        "{employee} 推荐了评价人({period})",
        "{employee} proposed colleagues for feedback ({period})",
        ("推荐的同事:{peers}。确认后才会发出邀请。",),
        ("Proposed: {peers}. Nobody is asked until you confirm.",),
    ),
    "form.added": _message(
        "待您填写:{employee} {period} 的“{form}”",
        "A form to fill: the {form} for {employee}, {period}",
        ("考核模板新增了这张表单,请在步骤“{step}”填写并提交。", "为此,考核表已从“{from_step}”退回到“{step}”。"),
        (
            "The template now asks for this form: fill it in and submit it at the step {step}.",
            "For it, the scorecard went back from {from_step} to {step}.",
        ),
    ),
    "feedback.form_added": _message(
        "可邀请同事评价:{employee} {period} 的“{form}”",
        "Peer feedback to ask for: the {form} for {employee}, {period}",
        ("考核模板新增了同事评价表单,请在考核表上邀请同事填写。",),
        ("The template now collects this form from colleagues: ask them for it on the scorecard.",),
    ),
    "delegation.granted": _message(
        "请您代理:{user}({starts_on} 至 {ends_on})",
        "Standing in for {user}: {starts_on} to {ends_on}",
        ("在此期间,您可以代替 {user} 处理等待其审批的步骤和转给其处理的申诉。", "由 {by} 设置。"),
        ("Between these dates you may act for {user} on the steps and disputes waiting for them.", "Set up by {by}."),
    ),
    "delegation.cancelled": _message(
        "代理已取消:{user}({starts_on} 至 {ends_on})",
        "Delegation cancelled: {user}, {starts_on} to {ends_on}",
        ("您不再代替 {user} 处理审批。", "由 {by} 取消。"),
        ("You no longer act for {user}.", "Cancelled by {by}."),
    ),
}


def language_of(preference: str | None) -> str:
    """A user's language preference (zh_CN, en, none) as a message language."""
    return "en" if (preference or "").lower().startswith("en") else "zh"


def _value(value, language: str) -> str:
    if isinstance(value, dict):
        return str(value.get(language) or value.get("zh") or value.get("en") or "")
    return "" if value is None else str(value)


def _names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _fill(template: str, params: dict, language: str) -> str:
    return template.format(**{name: _value(params.get(name), language) for name in _names(template)})


def _has_all(template: str, params: dict) -> bool:
    return all(params.get(name) not in (None, "") for name in _names(template))


def render(kind: str, params: dict, language: str) -> tuple[str, str]:
    """(subject, body) of a notification in `language` (zh or en); the subject is one line."""
    message = MESSAGES.get(kind)
    if message is None:  # a kind whose text has since gone: say what it was rather than fail
        return one_line(kind), ""
    language = language if language in LANGUAGES else "zh"
    body = [_fill(line, params, language) for line in message.body[language] if _has_all(line, params)]
    return one_line(_fill(message.subject[language], params, language)), "\n".join(body)


def one_line(text: str) -> str:
    """`text` with each run of line breaks made one space (a subject is a single line)."""
    return LINE_BREAKS.sub(" ", text)


def moment_text(moment: dt.datetime) -> str:
    """How a time is written into a notification's parameters: to the minute, in UTC."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
