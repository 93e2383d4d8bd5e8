#!/usr/bin/python
# A stand-in for ibm.power_ibmi.ibmi_cl_command (tests only; see README.md):
# the documented options, validated by Ansible; nothing runs.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ibmi_cl_command
short_description: Test stand-in for ibm.power_ibmi.ibmi_cl_command (documented options only)
options:
  cmd: {type: str, required: true, description: The CL command.}
  asp_group: {type: str, default: '*SYSBAS', description: ASP group.}
  joblog: {type: bool, default: false, description: Return the job log.}
  become_user: {type: str, description: User profile.}
  become_user_password: {type: str, description: Its password.}
'''

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(cmd=dict(type="str", required=True), asp_group=dict(type="str", default="*SYSBAS"),
                           joblog=dict(type="bool", default=False), become_user=dict(type="str"),
                           become_user_password=dict(type="str", no_log=True)),
        supports_check_mode=True)
    if not module.check_mode:
        module.fail_json(msg="test stand-in for ibm.power_ibmi: runs in check mode only", rc=255)
    module.exit_json(changed=True, cmd=module.params["cmd"].strip().upper(), rc=0, stdout="", stderr="", job_log=[])


if __name__ == "__main__":
    main()
