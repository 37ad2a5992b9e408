"""Facts about template.yaml that cfn-lint, `sam validate --lint` and checkov cannot see.

cfn-lint accepts a made-up runtime or architecture, a misspelt policy template, `rate(1 minutes)`,
an environment variable no code reads and a policy on `*`; these tests do not. They read the
template as written and as the SAM transform expands it, and run in the SAM CLI's virtual
environment (scripts/check-template.sh).
"""

import json
import re
import unittest
from pathlib import Path

from cfnlint.decode import decode_str
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE, _ = decode_str((ROOT / "template.yaml").read_text())
RESOURCES = TEMPLATE["Resources"]
PARAMETERS = TEMPLATE["Parameters"]
GLOBAL_FUNCTION = TEMPLATE["Globals"]["Function"]

# The function's logical ID and the binary (workspace package) it runs.
FUNCTIONS = {"SlaReportFunction": "sla-report", "AnomalyCheckFunction": "anomaly-check"}


class ManagedPolicies:
    """The SAM transform asks for managed policy ARNs; this template attaches none."""

    def load(self):
        return {}


def expanded():
    """The template as CloudFormation receives it after the SAM transform."""
    raw = json.loads(json.dumps(TEMPLATE))
    raw["Globals"]["Function"]["CodeUri"] = "s3://bucket/code.zip"
    return transform(raw, {"AWS::Region": "us-east-1"}, ManagedPolicies())


def function_property(logical_id, name):
    own = RESOURCES[logical_id]["Properties"]
    return own[name] if name in own else GLOBAL_FUNCTION.get(name)


def environment(logical_id):
    variables = dict(GLOBAL_FUNCTION["Environment"]["Variables"])
    variables.update(RESOURCES[logical_id]["Properties"]["Environment"]["Variables"])
    return variables


def statements(role_id):
    """Every statement of a role's inline and attached policies, each `Fn::If` branch included."""
    found = []

    def visit(statement):
        if isinstance(statement, dict) and "Fn::If" in statement:
            for branch in statement["Fn::If"][1:]:
                visit(branch)
        elif isinstance(statement, dict) and statement != {"Ref": "AWS::NoValue"}:
            found.append(statement)

    documents = [policy["PolicyDocument"] for policy in RESOURCES[role_id]["Properties"]["Policies"]]
    documents += [
        resource["Properties"]["PolicyDocument"]
        for resource in RESOURCES.values()
        if resource["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": role_id} in resource["Properties"]["Roles"]
    ]
    for document in documents:
        for statement in document["Statement"]:
            visit(statement)
    return found


def by_sid(role_id, sid):
    matches = [s for s in statements(role_id) if s.get("Sid") == sid]
    assert len(matches) == 1, f"{role_id}: one statement {sid}, found {len(matches)}"
    return matches[0]


def as_list(value):
    return value if isinstance(value, list) else [value]


def refs(node):
    """Every name a `Ref`, `Fn::GetAtt` or `${...}` in `Fn::Sub` points at."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref":
                yield value
            elif key == "Fn::GetAtt":
                yield value[0] if isinstance(value, list) else value.split(".")[0]
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                local = {} if isinstance(value, str) else value[1]
                for name in re.findall(r"\$\{([^}!]+)\}", text):
                    if name.split(".")[0] not in local:
                        yield name.split(".")[0]
                yield from refs(local)
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def source_text():
    return "\n".join(
        path.read_text()
        for folder in ("shared", "functions")
        for path in (ROOT / folder).rglob("*.rs")
    )


class Functions(unittest.TestCase):
    def test_runtime_architecture_and_handler(self):
        for logical_id in FUNCTIONS:
            with self.subTest(logical_id):
                self.assertEqual(function_property(logical_id, "Runtime"), "provided.al2023")
                self.assertEqual(function_property(logical_id, "Architectures"), ["arm64"])
                self.assertEqual(function_property(logical_id, "Handler"), "bootstrap")

    def test_each_builds_its_own_workspace_binary_with_cargo_lambda(self):
        for logical_id, binary in FUNCTIONS.items():
            with self.subTest(logical_id):
                metadata = RESOURCES[logical_id]["Metadata"]
                self.assertEqual(metadata["BuildMethod"], "rust-cargolambda")
                self.assertEqual(metadata["BuildProperties"], {"Binary": binary})
                manifest = (ROOT / "functions" / binary / "Cargo.toml").read_text()
                self.assertIn(f'name = "{binary}"', manifest)
        self.assertEqual(GLOBAL_FUNCTION["CodeUri"], ".", "the workspace root, for cargo lambda")

    def test_logs_are_json_at_a_chosen_level_into_a_retained_group(self):
        logging = GLOBAL_FUNCTION["LoggingConfig"]
        self.assertEqual(logging["LogFormat"], "JSON")
        self.assertEqual(logging["ApplicationLogLevel"], {"Ref": "LogLevel"})
        self.assertIn(PARAMETERS["LogLevel"]["Default"], PARAMETERS["LogLevel"]["AllowedValues"])
        for logical_id in FUNCTIONS:
            group = RESOURCES[logical_id]["Properties"]["LoggingConfig"]["LogGroup"]
            self.assertEqual(RESOURCES[group["Ref"]]["Type"], "AWS::Logs::LogGroup")
            self.assertIn("RetentionInDays", RESOURCES[group["Ref"]]["Properties"])

    def test_memory_and_timeout_fit_the_schedule(self):
        check = RESOURCES["AnomalyCheckFunction"]["Properties"]
        self.assertLess(check["Timeout"], 60, "a minute's run must end before the next starts")
        self.assertGreaterEqual(check["MemorySize"], 192, "10,000 series peak at 117 MB")
        report = RESOURCES["SlaReportFunction"]["Properties"]
        self.assertGreaterEqual(report["Timeout"], 120)
        self.assertGreaterEqual(report["MemorySize"], 128)

    def test_every_environment_variable_is_read_by_the_code_and_documented(self):
        code = source_text()
        reference = (ROOT / "docs" / "configuration.md").read_text()
        for logical_id in FUNCTIONS:
            for name in environment(logical_id):
                with self.subTest(logical_id, variable=name):
                    self.assertIn(f'"{name}"', code, "no code reads it")
                    self.assertIn(f"`{name}`", reference, "docs/configuration.md lacks it")


class Schedules(unittest.TestCase):
    def test_the_report_runs_daily_on_scheduler_in_the_report_time_zone(self):
        events = RESOURCES["SlaReportFunction"]["Properties"]["Events"]
        (daily,) = events.values()
        self.assertEqual(daily["Type"], "ScheduleV2")
        properties = daily["Properties"]
        self.assertEqual(properties["ScheduleExpression"], {"Ref": "ReportSchedule"})
        default = PARAMETERS["ReportSchedule"]["Default"]
        fields = re.fullmatch(r"cron\((.*)\)", default).group(1).split()
        self.assertEqual(len(fields), 6, "EventBridge cron has six fields")
        self.assertTrue(re.fullmatch(PARAMETERS["ReportSchedule"]["AllowedPattern"], default))
        self.assertEqual(properties["ScheduleExpressionTimezone"], {"Ref": "ReportTimeZone"})
        self.assertEqual(environment("SlaReportFunction")["REPORT_TIME_ZONE"], {"Ref": "ReportTimeZone"})
        self.assertEqual(json.loads(properties["Input"]), {"time": "<aws.scheduler.scheduled-time>"})
        self.assertGreater(properties["RetryPolicy"]["MaximumRetryAttempts"], 0)
        self.assertEqual(properties["DeadLetterConfig"], {"Arn": {"Fn::GetAtt": ["FailureQueue", "Arn"]}})

    def test_the_check_runs_every_minute(self):
        events = RESOURCES["AnomalyCheckFunction"]["Properties"]["Events"]
        (minute,) = events.values()
        self.assertEqual(minute["Type"], "Schedule")
        self.assertEqual(minute["Properties"]["Schedule"], "rate(1 minute)")
        self.assertEqual(minute["Properties"]["RetryPolicy"]["MaximumRetryAttempts"], 0)

    def test_a_late_minute_is_dropped_and_the_report_retries(self):
        check = RESOURCES["AnomalyCheckFunction"]["Properties"]["EventInvokeConfig"]
        self.assertEqual(check["MaximumRetryAttempts"], 0)
        self.assertEqual(check["MaximumEventAgeInSeconds"], 60)
        report = RESOURCES["SlaReportFunction"]["Properties"]["EventInvokeConfig"]
        self.assertGreater(report["MaximumRetryAttempts"], 0)
        for config in (check, report):
            on_failure = config["DestinationConfig"]["OnFailure"]
            self.assertEqual(on_failure["Type"], "SQS")
            self.assertEqual(on_failure["Destination"], {"Fn::GetAtt": ["FailureQueue", "Arn"]})

    def test_the_expanded_template_keeps_those_settings(self):
        resources = expanded()["Resources"]
        rule = resources["AnomalyCheckFunctionEveryMinute"]
        self.assertEqual(rule["Type"], "AWS::Events::Rule")
        self.assertEqual(rule["Properties"]["ScheduleExpression"], "rate(1 minute)")
        schedule = resources["SlaReportFunctionDaily"]
        self.assertEqual(schedule["Type"], "AWS::Scheduler::Schedule")
        self.assertEqual(schedule["Properties"]["FlexibleTimeWindow"], {"Mode": "OFF"})
        invoke = resources["AnomalyCheckFunctionEventInvokeConfig"]["Properties"]
        self.assertEqual((invoke["MaximumRetryAttempts"], invoke["MaximumEventAgeInSeconds"]), (0, 60))
        for logical_id in FUNCTIONS:
            function = resources[logical_id]["Properties"]
            self.assertEqual(function["Runtime"], "provided.al2023")
            self.assertEqual(function["Architectures"], ["arm64"])
            self.assertEqual(function["LoggingConfig"]["LogFormat"], "JSON")
        roles = [r for r in resources.values() if r["Type"] == "AWS::IAM::Role"]
        for role in roles:
            self.assertEqual(role["Properties"].get("ManagedPolicyArns", []), [], "no broad managed policy")


class ReportBucket(unittest.TestCase):
    def test_private_encrypted_versioned_owner_enforced(self):
        bucket = RESOURCES["ReportBucket"]
        self.assertEqual(bucket["Condition"], "CreateReportBucket")
        properties = bucket["Properties"]
        self.assertTrue(all(properties["PublicAccessBlockConfiguration"].values()))
        self.assertEqual(len(properties["PublicAccessBlockConfiguration"]), 4)
        (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        self.assertIn(rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"], ("AES256", "aws:kms"))
        self.assertEqual(properties["VersioningConfiguration"], {"Status": "Enabled"})
        self.assertEqual(properties["OwnershipControls"]["Rules"], [{"ObjectOwnership": "BucketOwnerEnforced"}])

    def test_lifecycle_expires_old_reports_and_old_versions(self):
        rules = RESOURCES["ReportBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
        self.assertTrue(all(rule["Status"] == "Enabled" for rule in rules))
        self.assertTrue(any("ExpirationInDays" in rule for rule in rules))
        self.assertTrue(any("NoncurrentVersionExpiration" in rule for rule in rules))

    def test_policy_refuses_plain_http(self):
        (statement,) = RESOURCES["ReportBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        self.assertEqual(statement["Effect"], "Deny")
        self.assertEqual(statement["Condition"], {"Bool": {"aws:SecureTransport": "false"}})
        self.assertEqual(len(statement["Resource"]), 2, "the bucket and its objects")


class AlertTopic(unittest.TestCase):
    def test_encrypted_with_a_rotated_key_cloudwatch_may_use(self):
        topic = RESOURCES["AlertTopic"]["Properties"]
        self.assertEqual(topic["KmsMasterKeyId"], {"Ref": "AlertTopicKey"})
        key = RESOURCES["AlertTopicKey"]["Properties"]
        self.assertTrue(key["EnableKeyRotation"])
        services = [
            s["Principal"].get("Service") for s in key["KeyPolicy"]["Statement"] if "Service" in s["Principal"]
        ]
        self.assertEqual(services, ["cloudwatch.amazonaws.com"])

    def test_topic_policy_and_optional_email(self):
        policy = RESOURCES["AlertTopicPolicy"]["Properties"]
        self.assertEqual(policy["Topics"], [{"Ref": "AlertTopic"}])
        sids = {s["Sid"] for s in policy["PolicyDocument"]["Statement"]}
        self.assertIn("DenyInsecureTransport", sids)
        subscription = RESOURCES["AlertEmailSubscription"]
        self.assertEqual(subscription["Condition"], "HasAlertEmail")
        self.assertEqual(subscription["Properties"]["Protocol"], "email")
        self.assertEqual(PARAMETERS["AlertEmail"]["Default"], "")

    def test_an_existing_topic_replaces_the_created_one_everywhere(self):
        either = {"Fn::If": ["CreateAlertTopic", {"Ref": "AlertTopic"}, {"Ref": "ExistingAlertTopicArn"}]}
        self.assertEqual(environment("AnomalyCheckFunction")["ALERT_TOPIC_ARN"], either)
        self.assertEqual(by_sid("AnomalyCheckRole", "PublishAlerts")["Resource"], either)
        self.assertEqual(TEMPLATE["Outputs"]["AlertTopicArn"]["Value"], either)


class LeastPrivilege(unittest.TestCase):
    def test_no_wildcard_actions_or_resources_in_function_roles(self):
        for role_id in ("SlaReportRole", "AnomalyCheckRole"):
            for statement in statements(role_id):
                with self.subTest(role_id, sid=statement.get("Sid")):
                    self.assertEqual(statement["Effect"], "Allow")
                    for action in as_list(statement["Action"]):
                        self.assertFalse(action == "*" or action.endswith(":*"), action)
                    for resource in as_list(statement["Resource"]):
                        self.assertNotEqual(resource, "*")

    def test_roles_belong_to_their_functions(self):
        for logical_id, role_id in (("SlaReportFunction", "SlaReportRole"), ("AnomalyCheckFunction", "AnomalyCheckRole")):
            self.assertEqual(RESOURCES[logical_id]["Properties"]["Role"], {"Fn::GetAtt": [role_id, "Arn"]})
            self.assertNotIn("Policies", RESOURCES[logical_id]["Properties"])

    def test_the_check_reads_the_same_slo_document_and_only_it(self):
        document = by_sid("AnomalyCheckRole", "ReadSloDocument")
        self.assertEqual(as_list(document["Action"]), ["s3:GetObject"])
        self.assertEqual(document["Resource"], by_sid("SlaReportRole", "ReadSloDocument")["Resource"])
        self.assertEqual(environment("AnomalyCheckFunction")["SLOS_S3_URI"], {"Ref": "SlosS3Uri"})

    def test_the_check_only_reads_the_ledger_under_the_report_prefix(self):
        ledger = by_sid("AnomalyCheckRole", "ReadLedgerUnderPrefix")
        self.assertEqual(as_list(ledger["Action"]), ["s3:GetObject"])
        self.assertTrue(ledger["Resource"]["Fn::Sub"][0].endswith("/${ReportPrefix}*"))
        for variable, ref in (("REPORT_PREFIX", "ReportPrefix"), ("REPORT_TIME_ZONE", "ReportTimeZone")):
            self.assertEqual(environment("AnomalyCheckFunction")[variable], {"Ref": ref})
        self.assertEqual(
            environment("AnomalyCheckFunction")["REPORT_BUCKET"], environment("AnomalyCheckFunction")["STATE_BUCKET"]
        )

    def test_the_report_reads_and_writes_only_under_its_prefix(self):
        actions = {a for s in statements("SlaReportRole") for a in as_list(s["Action"]) if a.startswith("s3:")}
        self.assertEqual(actions, {"s3:PutObject", "s3:GetObject", "s3:ListBucket"})
        document = by_sid("SlaReportRole", "ReadSloDocument")
        self.assertEqual(as_list(document["Action"]), ["s3:GetObject"])
        self.assertEqual(environment("SlaReportFunction")["SLOS_S3_URI"], {"Ref": "SlosS3Uri"})
        for sid, action in (("WriteReportsUnderPrefix", "s3:PutObject"), ("ReadReportsUnderPrefix", "s3:GetObject")):
            statement = by_sid("SlaReportRole", sid)
            self.assertEqual(as_list(statement["Action"]), [action])
            resource = statement["Resource"]["Fn::Sub"][0]
            self.assertTrue(resource.endswith("/${ReportPrefix}*"), resource)
        listing = by_sid("SlaReportRole", "ListReportsUnderPrefix")
        self.assertEqual(as_list(listing["Action"]), ["s3:ListBucket"])
        self.assertEqual(listing["Condition"], {"StringLike": {"s3:prefix": {"Fn::Sub": "${ReportPrefix}*"}}})
        self.assertEqual(environment("SlaReportFunction")["REPORT_PREFIX"], {"Ref": "ReportPrefix"})
        self.assertEqual(environment("SlaReportFunction")["SLO_WINDOW"], {"Ref": "SloWindow"})

    def test_the_check_reads_and_writes_only_its_state_object(self):
        state = by_sid("AnomalyCheckRole", "ReadWriteOwnStateObject")
        self.assertEqual(sorted(state["Action"]), ["s3:GetObject", "s3:PutObject"])
        key = environment("AnomalyCheckFunction")["STATE_KEY"]["Fn::Sub"]
        single, shards = (resource["Fn::Sub"][0] for resource in state["Resource"])
        self.assertTrue(single.endswith("/" + key), "the object STATE_KEY names")
        stem = key.removesuffix(".json")
        self.assertTrue(shards.endswith("/" + stem + ".shard-*.json"), "and its shards' objects beside it")
        writes = [s for s in statements("AnomalyCheckRole") if "s3:PutObject" in as_list(s["Action"])]
        self.assertEqual(writes, [state, by_sid("AnomalyCheckRole", "ReadWriteSilences")])

    def test_the_check_reads_and_writes_only_the_silences_object(self):
        silences = by_sid("AnomalyCheckRole", "ReadWriteSilences")
        self.assertEqual(sorted(silences["Action"]), ["s3:GetObject", "s3:PutObject"])
        given, default = silences["Resource"]["Fn::If"][1:]
        self.assertTrue(default["Fn::Sub"][0].endswith("/anomaly-check/${AWS::StackName}/silences.json"))
        self.assertIn("SilencesS3Uri", json.dumps(given))
        variable = environment("AnomalyCheckFunction")["SILENCES_S3_URI"]["Fn::If"]
        self.assertEqual(variable[0], "HasSilencesUri")
        self.assertEqual(variable[1], {"Ref": "SilencesS3Uri"})
        self.assertTrue(variable[2]["Fn::Sub"][0].endswith("/anomaly-check/${AWS::StackName}/silences.json"))

    def test_credentials_readable_only_from_the_one_secret(self):
        for role_id in ("SlaReportRole", "AnomalyCheckRole"):
            secret = by_sid(role_id, "ReadPrometheusCredentials")
            self.assertEqual(secret["Resource"], {"Ref": "PrometheusSecretArn"})
            readers = [
                s
                for s in statements(role_id)
                if any(a.startswith(("secretsmanager:", "ssm:")) for a in as_list(s["Action"]))
            ]
            self.assertEqual(readers, [secret])

    def test_logs_go_only_to_the_functions_own_groups(self):
        for role_id, group in (("SlaReportRole", "SlaReportLogGroup"), ("AnomalyCheckRole", "AnomalyCheckLogGroup")):
            self.assertEqual(by_sid(role_id, "WriteOwnLogs")["Resource"], {"Fn::GetAtt": [group, "Arn"]})


class Parameters(unittest.TestCase):
    def test_every_parameter_is_described_used_and_sane(self):
        used = set(refs(TEMPLATE["Resources"])) | set(refs(TEMPLATE["Globals"])) | set(refs(TEMPLATE["Outputs"]))
        for name, parameter in PARAMETERS.items():
            with self.subTest(name):
                self.assertTrue(parameter.get("Description"), "has a description")
                self.assertIn(name, used, "is used")
                if "AllowedValues" in parameter and "Default" in parameter:
                    self.assertIn(parameter["Default"], parameter["AllowedValues"])
                if "AllowedPattern" in parameter and "Default" in parameter:
                    self.assertTrue(re.fullmatch(parameter["AllowedPattern"], str(parameter["Default"])))

    def test_every_reference_resolves(self):
        known = set(PARAMETERS) | set(RESOURCES) | {"AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::StackName", "AWS::NoValue"}
        known |= {"AnomalyCheckFunctionEveryMinute", "ShardWorkflowEveryMinute"}  # generated by the SAM transform
        for name in refs(TEMPLATE):
            self.assertIn(name, known)

    def test_the_user_settings_the_issue_names_are_parameters(self):
        for name in (
            "PrometheusUrl",
            "PrometheusAuth",
            "PrometheusSecretArn",
            "PrometheusTenantId",
            "ReportTimeZone",
            "SloTarget",
            "ChecksS3Uri",
            "ReportSchedule",
            "LogLevel",
            "AlertEmail",
            "ExistingReportBucket",
            "ExistingAlertTopicArn",
        ):
            self.assertIn(name, PARAMETERS)
        self.assertEqual(PARAMETERS["PrometheusAuth"]["AllowedValues"], ["none", "bearer", "basic", "sigv4"])

    def test_the_prometheus_url_pattern_rejects_credentials(self):
        pattern = PARAMETERS["PrometheusUrl"]["AllowedPattern"]
        self.assertTrue(re.fullmatch(pattern, "https://mimir.example.com/prometheus"))
        self.assertIsNone(re.fullmatch(pattern, "https://user:pw@prometheus.example.com"))


class Alarms(unittest.TestCase):
    def alarms(self):
        return {k: r["Properties"] for k, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}

    def test_errors_of_each_function_and_a_silent_minute_check_alarm_to_the_topic(self):
        alarms = self.alarms()
        watched = {
            (a["MetricName"], a["Dimensions"][0]["Value"]["Ref"], a["TreatMissingData"])
            for a in alarms.values()
            if a["Namespace"] == "AWS/Lambda"
        }
        self.assertIn(("Errors", "SlaReportFunction", "notBreaching"), watched)
        self.assertIn(("Errors", "AnomalyCheckFunction", "notBreaching"), watched)
        self.assertIn(("Invocations", "AnomalyCheckFunction", "breaching"), watched)
        topic = {"Fn::If": ["CreateAlertTopic", {"Ref": "AlertTopic"}, {"Ref": "ExistingAlertTopicArn"}]}
        for name, alarm in alarms.items():
            self.assertEqual(alarm["AlarmActions"], [topic], name)


class Outputs(unittest.TestCase):
    def test_what_a_user_needs_after_deploying(self):
        for name in ("ReportBucketName", "ReportUrlPrefix", "AlertTopicArn", "SlaReportFunctionName", "AnomalyCheckFunctionName"):
            self.assertIn(name, TEMPLATE["Outputs"])


class Events(unittest.TestCase):
    def test_sample_events_cover_daily_minute_and_backfill(self):
        events = {path.name: json.loads(path.read_text()) for path in (ROOT / "events").glob("*.json")}
        self.assertEqual(events["scheduler.json"], {"time": events["scheduler.json"]["time"]})
        self.assertEqual(events["scheduled-classic.json"]["detail-type"], "Scheduled Event")
        self.assertEqual(events["minute.json"]["detail-type"], "Scheduled Event")
        self.assertTrue(re.fullmatch(r"\d{4}-\d{2}-\d{2}", events["backfill.json"]["date"]))
        selector = RESOURCES["ShardWorkflow"]["Properties"]["Definition"]["States"]["Shards"]["ItemSelector"]
        fields = {name.removesuffix(".$") for name in selector}
        self.assertEqual(set(events["shard.json"]), fields, "what the Map state sends each shard")



class Shards(unittest.TestCase):
    """The shard workflow: Step Functions cannot run here, so its definition is checked as data."""

    def workflow(self):
        return RESOURCES["ShardWorkflow"]

    def test_one_shard_deploys_no_workflow_and_the_function_runs_on_its_own(self):
        count = PARAMETERS["ShardCount"]
        self.assertEqual((count["Default"], count["MinValue"]), (1, 1))
        self.assertLessEqual(count["MaxValue"], 40, "an inline Map runs at most 40 iterations at once")
        self.assertEqual(TEMPLATE["Conditions"]["Sharded"], {"Fn::Not": [{"Fn::Equals": [{"Ref": "ShardCount"}, 1]}]})
        sharded = [k for k, r in RESOURCES.items() if r.get("Condition") == "Sharded"]
        self.assertEqual(
            sorted(sharded),
            ["ShardWorkflow", "ShardWorkflowFailedAlarm", "ShardWorkflowLogGroup", "ShardWorkflowRole"],
        )
        minute = RESOURCES["AnomalyCheckFunction"]["Properties"]["Events"]["EveryMinute"]["Properties"]
        self.assertEqual(minute["State"], {"Fn::If": ["Sharded", "DISABLED", {"Ref": "CheckScheduleState"}]})
        schedule = self.workflow()["Properties"]["Events"]["EveryMinute"]
        self.assertEqual(schedule["Type"], "Schedule")
        self.assertEqual(schedule["Properties"]["Schedule"], "rate(1 minute)")
        self.assertEqual(schedule["Properties"]["State"], {"Ref": "CheckScheduleState"})
        self.assertEqual(schedule["Properties"]["RetryPolicy"]["MaximumRetryAttempts"], 0)

    def test_an_express_map_runs_the_check_once_per_shard_with_time_shard_and_shards(self):
        properties = self.workflow()["Properties"]
        self.assertEqual(properties["Type"], "EXPRESS")
        substitutions = properties["DefinitionSubstitutions"]
        self.assertEqual(substitutions["CheckFunctionArn"], {"Fn::GetAtt": ["AnomalyCheckFunction", "Arn"]})
        self.assertEqual(substitutions["ShardCount"], {"Ref": "ShardCount"})
        states = properties["Definition"]["States"]
        plan = states[properties["Definition"]["StartAt"]]
        self.assertEqual(plan["Parameters"]["shards.$"], "States.ArrayRange(1, ${ShardCount}, 1)")
        shards = states[plan["Next"]]
        self.assertEqual(shards["Type"], "Map")
        self.assertEqual(
            shards["ItemSelector"],
            {"time.$": "$.time", "shard.$": "$$.Map.Item.Index", "shards.$": "States.ArrayLength($.shards)"},
        )
        self.assertNotIn("MaxConcurrency", shards, "every shard at once")
        inner = shards["ItemProcessor"]["States"]
        check = inner[shards["ItemProcessor"]["StartAt"]]
        self.assertEqual(check["Resource"], "arn:aws:states:::lambda:invoke")
        self.assertEqual(check["Parameters"], {"FunctionName": "${CheckFunctionArn}", "Payload.$": "$"})
        self.assertNotIn("Retry", check, "a failed shard is retried by the next minute, not twice in one")
        (catch,) = check["Catch"]
        self.assertEqual(catch["ErrorEquals"], ["States.ALL"], "each shard catches its own failure")
        self.assertEqual(inner[catch["Next"]]["Result"], True)
        self.assertEqual(inner[check["Next"]]["Result"], False)

    def test_the_execution_fails_at_the_end_if_any_shard_failed(self):
        states = self.workflow()["Properties"]["Definition"]["States"]
        shards = states["Shards"]
        verdict = states[shards["Next"]]
        self.assertEqual(verdict["Parameters"], {"any.$": f"States.ArrayContains({shards['ResultPath']}, true)"})
        choice = states[verdict["Next"]]
        (failed,) = choice["Choices"]
        self.assertEqual((failed["Variable"], failed["BooleanEquals"]), ("$.any", True))
        self.assertEqual(states[failed["Next"]]["Type"], "Fail")
        self.assertEqual(states[choice["Default"]]["Type"], "Succeed")
        alarm = RESOURCES["ShardWorkflowFailedAlarm"]["Properties"]
        self.assertEqual((alarm["Namespace"], alarm["MetricName"]), ("AWS/States", "ExecutionsFailed"))
        self.assertEqual(alarm["Dimensions"][0]["Value"], {"Ref": "ShardWorkflow"})
        check_errors = RESOURCES["AnomalyCheckErrorsAlarm"]["Properties"]
        for field in ("Period", "EvaluationPeriods", "DatapointsToAlarm", "TreatMissingData"):
            self.assertEqual(alarm[field], check_errors[field], "a failed shard alarms like a failed check")

    def test_the_workflow_may_only_invoke_the_check_and_log_its_errors(self):
        role = RESOURCES["ShardWorkflowRole"]["Properties"]
        self.assertEqual(self.workflow()["Properties"]["Role"], {"Fn::GetAtt": ["ShardWorkflowRole", "Arn"]})
        principal = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        self.assertEqual(principal, {"Service": "states.amazonaws.com"})
        found = statements("ShardWorkflowRole")
        invoke = by_sid("ShardWorkflowRole", "InvokeTheCheckOnly")
        self.assertEqual((invoke["Action"], invoke["Resource"]), ("lambda:InvokeFunction", {"Fn::GetAtt": ["AnomalyCheckFunction", "Arn"]}))
        for statement in found:
            if statement is not invoke:
                self.assertTrue(all(a.startswith("logs:") for a in as_list(statement["Action"])), statement)
        logging = self.workflow()["Properties"]["Logging"]
        self.assertEqual(logging["Level"], "ERROR")
        self.assertFalse(logging["IncludeExecutionData"], "no alert data in the workflow's logs")

    def test_the_series_budget_is_read_by_the_check_and_alarmed(self):
        self.assertEqual(environment("AnomalyCheckFunction")["SERIES_BUDGET"], {"Ref": "SeriesBudget"})
        alarm = RESOURCES["SeriesOverBudgetAlarm"]["Properties"]
        self.assertEqual((alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]), ("Vigil", "SeriesEvaluated", "Maximum"))
        self.assertEqual(alarm["Threshold"], {"Ref": "SeriesBudget"})
        code = source_text()
        self.assertIn('metric("SeriesEvaluated"', code)
        self.assertIn('MetricsLine::new("anomaly-check")', code)

    def test_the_expanded_workflow_is_scheduled_and_conditional(self):
        resources = expanded()["Resources"]
        machine = resources["ShardWorkflow"]
        self.assertEqual(machine["Type"], "AWS::StepFunctions::StateMachine")
        self.assertEqual(machine["Condition"], "Sharded")
        self.assertEqual(machine["Properties"]["StateMachineType"], "EXPRESS")
        rule = resources["ShardWorkflowEveryMinute"]
        self.assertEqual(rule["Condition"], "Sharded")
        self.assertEqual(rule["Properties"]["ScheduleExpression"], "rate(1 minute)")
        (target,) = rule["Properties"]["Targets"]
        self.assertEqual(target["Arn"], {"Ref": "ShardWorkflow"})
        text = "\n".join(machine["Properties"]["DefinitionString"]["Fn::Join"][1])
        for name, value in (("ShardCount", "4"), ("CheckFunctionArn", "arn:aws:lambda:us-east-1:1:function:c")):
            text = text.replace("${" + name + "}", value)
        definition = json.loads(text)
        self.assertEqual(definition["States"]["Plan"]["Parameters"]["shards.$"], "States.ArrayRange(1, 4, 1)")
        self.assertEqual(machine["Properties"]["DefinitionSubstitutions"]["ShardCount"], {"Ref": "ShardCount"})


if __name__ == "__main__":
    unittest.main()
