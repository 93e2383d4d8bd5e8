#!/usr/bin/python
# A stand-in for ibm.power_ibmi.ibmi_sql_query (tests only; see README.md):
# the documented options, validated by Ansible; nothing runs.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ibmi_sql_query
short_description: Test stand-in for ibm.power_ibmi.ibmi_sql_query (documented options only)
options:
  sql: {type: str, required: true, description: The query.}
  database: {type: str, default: '*SYSBAS', description: Database.}
  expected_row_count: {type: int, default: -1, description: Expected rows.}
  joblog: {type: bool, default: false, description: Return the job log.}
'''

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(sql=dict(type="str", required=True), database=dict(type="str", default="*SYSBAS"),
                           expected_row_count=dict(type="int", default=-1), joblog=dict(type="bool", default=False)),
        supports_check_mode=True)
    if not module.check_mode:
        module.fail_json(msg="test stand-in for ibm.power_ibmi: runs in check mode only", rc=255)
    module.exit_json(changed=False, sql=module.params["sql"].strip().upper(), rc=0, row=[], row_count=0, job_log=[])


if __name__ == "__main__":
    main()
