"""A small company whose every scorecard number is worked out by hand in test_scenario.py."""

import json

from ..helpers import run_cli

ORG = """
departments:
  - {code: HQ, label: {zh: 总部, en: Headquarters}}
  - {code: SALES, label: {zh: 销售中心, en: Sales}, parent: HQ}
  - {code: EAST, label: {zh: 华东, en: East}, parent: SALES}
  - {code: WEST, label: {zh: 华西, en: West}, parent: SALES}
roles:
  - {code: lead, label: {zh: 主管, en: Lead}}
  - {code: rep, label: {zh: 销售, en: Rep}}
employees:
  - {code: L1, name: 主管一, department: EAST, role: lead, hire_date: 2020-01-01, attributes: {quota_weight: 1}}
  - {code: R1, name: 销售一, department: EAST, role: rep, manager: L1, hire_date: 2021-01-01, attributes: {quota_weight: 3}}
  - {code: R2, name: 销售二, department: EAST, role: rep, manager: L1, hire_date: 2022-01-01, attributes: {quota_weight: 1}}
  - {code: R3, name: 销售三, department: WEST, role: rep, hire_date: 2023-01-01}
  - {code: R4, name: 销售四, department: WEST, role: rep, manager: R3, hire_date: 2024-01-01}
"""

CONFIG = """
datasets:
  - slug: deals
    label: {zh: 成交, en: Deals}
    owner_field: owner
    date_field: closed_on
    fields:
      - {name: owner, label: {zh: 负责人, en: Owner}, type: employee, required: true}
      - {name: closed_on, label: {zh: 日期, en: Date}, type: date, required: true}
      - {name: customer, label: {zh: 客户, en: Customer}, type: text}
      - {name: amount, label: {zh: 金额, en: Amount}, type: decimal}
      - name: status
        label: {zh: 状态, en: Status}
        type: choice
        options:
          - {value: won, label: {zh: 赢单, en: Won}}
          - {value: lost, label: {zh: 输单, en: Lost}}
metrics:
  - {slug: sales, label: {zh: 销售额, en: Sales}, dataset: deals, aggregate: sum, field: amount, filter: "status == 'won'"}
  - {slug: deals_won, label: {zh: 赢单数, en: Won}, dataset: deals, aggregate: count, filter: "status == 'won'"}
  - {slug: deals_lost, label: {zh: 输单数, en: Lost}, dataset: deals, aggregate: count, filter: "status == 'lost'"}
  - {slug: team_sales, label: {zh: 团队销售额, en: Team sales}, dataset: deals, aggregate: sum, field: amount, filter: "status == 'won'", scope: team}
kpis:
  - slug: attainment
    label: {zh: 完成率, en: Attainment}
    formula: sales / target.sales
    scoring: {type: linear, value_from: 0, value_to: 1.2, points_from: 0, points_to: 120, floor: 0, cap: 120}
  - slug: win_rate
    label: {zh: 赢单率, en: Win rate}
    formula: deals_won / (deals_won + deals_lost)
    missing: exclude
    scoring:
      type: bands
      bands: [{min: 0.5, points: 100}, {min: 0.25, points: 60}]
      otherwise: 20
  - slug: growth
    label: {zh: 环比增长, en: Growth}
    formula: sales / prev.sales - 1
    missing: exclude
    scoring: {type: formula, formula: "clamp(50 + value * 100, 0, 100)"}
  - slug: team_attainment
    label: {zh: 团队完成率, en: Team attainment}
    formula: team_sales / target.team_sales
    missing: fail
    scoring: {type: linear, value_from: 0, value_to: 1.2, points_from: 0, points_to: 120, floor: 0, cap: 120}
targets:
  - slug: t2026
    label: {zh: 目标, en: Targets}
    entries:
      - {name: sales, period: "2026", role: rep, value: 120000}
      - {name: sales, period: 2026-10, employee: R1, value: 20000}
      - {name: team_sales, period: 2026-10, department: EAST, value: 50000}
templates:
  - slug: rep
    label: {zh: 销售考核, en: Rep}
    applies_to: {roles: [rep]}
    sections:
      - name: results
        label: {zh: 业绩, en: Results}
        weight: 70
        items:
          - {kpi: attainment, weight: 60}
          - {kpi: win_rate, weight: 40}
      - name: process
        label: {zh: 过程, en: Process}
        weight: 30
        items:
          - {kpi: growth, weight: 50}
          - {manual: rating, label: {zh: 上级评分, en: Manager rating}, weight: 50}
    grades: &grades
      - {grade: S, min: 95, label: {zh: 卓越, en: Outstanding}}
      - {grade: A, min: 85, label: {zh: 优秀, en: Excellent}}
      - {grade: B, min: 70, label: {zh: 良好, en: Good}}
      - {grade: C, min: 60, label: {zh: 合格, en: Acceptable}}
      - {grade: D, min: 0, label: {zh: 待改进, en: Needs improvement}}
  - slug: lead
    label: {zh: 主管考核, en: Lead}
    applies_to: {roles: [lead]}
    sections:
      - name: team
        label: {zh: 团队, en: Team}
        weight: 100
        items:
          - {kpi: team_attainment, weight: 100}
    grades: *grades
"""

DEALS = """
external_id,owner,closed_on,customer,amount,status
D1,R1,2026-10-03,A,15000,won
D2,R1,2026-10-20,A,9000,won
D3,R1,2026-10-21,B,5000,lost
D4,R1,2026-09-15,A,12000,won
D5,R2,2026-10-05,B,6000,won
D6,R2,2026-10-06,C,1000,lost
D7,R2,2026-10-07,C,1000,lost
D8,R2,2026-10-31,C,1000,lost
D9,R3,2026-09-30,D,7000,won
D10,R4,2026-10-01,E,30000,won
D11,R4,2026-09-01,E,10000,won
D12,R4,2026-11-01,E,99999,won
"""

RATINGS = """
employee,period,item,value
R1,2026-10,rating,80
R3,2026-10,rating,90
R4,2026-10,rating,70
"""


def scorecards(period="2026-10") -> dict[str, dict]:
    result = run_cli("scorecards", period, "--format", "json")
    assert result.exit_code == 0, result.output
    return {card["employee"]: card for card in json.loads(result.stdout)}


def items(card) -> dict[str, dict]:
    return {item["key"]: item for item in card["items"]}
