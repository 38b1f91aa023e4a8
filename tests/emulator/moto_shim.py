"""Launches moto's server with the few fixes tfgen's emulator test needs (tests/emulator.rs).

Run with the moto virtual environment's interpreter, taking moto_server's arguments:

    python tests/emulator/moto_shim.py -H 127.0.0.1 -p 5000

Each patch fills a gap between moto (pinned in tests/emulator.rs) and what the AWS provider expects from
the real APIs; without it `terraform apply` hangs in retries or `plan` never converges. Every patch is
test-only: the generated Terraform is never changed to suit the emulator. A patch whose target moved in a
newer moto fails loudly here rather than silently doing nothing.
"""

import json
import sys
from urllib.parse import unquote

import moto  # noqa: F401  (imported first so the backends below resolve)
from moto.applicationautoscaling import models as aas_models
from moto.applicationautoscaling import responses as aas_responses
from moto.backup import responses as backup_responses
from moto.backup import urls as backup_urls
from moto.backup.exceptions import ResourceNotFoundException
from moto.budgets import responses as budgets_responses
from moto.codebuild import responses as codebuild_responses
from moto.codepipeline import models as codepipeline_models
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult
from moto.core.utils import unix_time, utcnow
from moto.moto_api._internal import mock_random as moto_random
from moto.ec2.models import instances as ec2_instances
from moto.ec2.models import security_groups as ec2_security_groups
from moto.ecr import responses as ecr_responses
from moto.ecs import responses as ecs_responses
from moto.kms import responses as kms_responses
from moto.rds import models as rds_models
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import main


# --- ECR: repository creation templates -----------------------------------------------------------------
# moto implements none of the four creation-template calls; prod's tree has a template in its replication
# region. Templates are kept per prefix on the region's backend, as ECR answers them.

def _templates(backend):
    if not hasattr(backend, "_shim_creation_templates"):
        backend._shim_creation_templates = {}
    return backend._shim_creation_templates


_TEMPLATE_FIELDS = (
    "description",
    "encryptionConfiguration",
    "resourceTags",
    "imageTagMutability",
    "imageTagMutabilityExclusionFilters",
    "repositoryPolicy",
    "lifecyclePolicy",
    "appliedFor",
    "customRoleArn",
)


def _template_error(kind, message):
    return 400, {}, json.dumps({"__type": kind, "message": message})


def create_repository_creation_template(self):
    prefix = self._get_param("prefix")
    templates = _templates(self.ecr_backend)
    if prefix in templates:
        return _template_error("TemplateAlreadyExistsException", f"The creation template with prefix {prefix} already exists")
    now = unix_time()
    template = {"prefix": prefix, "createdAt": now, "updatedAt": now}
    for field in _TEMPLATE_FIELDS:
        value = self._get_param(field)
        if value is not None:
            template[field] = value
    template.setdefault("encryptionConfiguration", {"encryptionType": "AES256"})
    template.setdefault("imageTagMutability", "MUTABLE")
    templates[prefix] = template
    return json.dumps({"registryId": self.current_account, "repositoryCreationTemplate": template})


def update_repository_creation_template(self):
    prefix = self._get_param("prefix")
    template = _templates(self.ecr_backend).get(prefix)
    if template is None:
        return _template_error("TemplateNotFoundException", f"The creation template with prefix {prefix} does not exist")
    for field in _TEMPLATE_FIELDS:
        value = self._get_param(field)
        if value is not None:
            template[field] = value
    template["updatedAt"] = unix_time()
    return json.dumps({"registryId": self.current_account, "repositoryCreationTemplate": template})


def describe_repository_creation_templates(self):
    prefixes = self._get_param("prefixes") or []
    templates = _templates(self.ecr_backend)
    found = [t for p, t in templates.items() if not prefixes or p in prefixes]
    return json.dumps({"registryId": self.current_account, "repositoryCreationTemplates": found})


def delete_repository_creation_template(self):
    prefix = self._get_param("prefix")
    template = _templates(self.ecr_backend).pop(prefix, None)
    if template is None:
        return _template_error("TemplateNotFoundException", f"The creation template with prefix {prefix} does not exist")
    return json.dumps({"registryId": self.current_account, "repositoryCreationTemplate": template})


for _name in (
    "create_repository_creation_template",
    "update_repository_creation_template",
    "describe_repository_creation_templates",
    "delete_repository_creation_template",
):
    setattr(ecr_responses.ECRResponse, _name, globals()[_name])


# --- AWS Budgets: subscribers and tags ------------------------------------------------------------------
# moto stores each notification's subscribers but implements no DescribeSubscribersForNotification, which
# the provider calls after every create and read of aws_budgets_budget (and retries for minutes), nor
# UpdateBudget (a spec change moves the estimate, so the limit), nor the budget tag calls the provider's
# default tags make. Tags are kept per budget ARN on the backend.

def _notification_matches(stored, asked):
    keys = ("NotificationType", "ComparisonOperator", "Threshold", "ThresholdType")
    return all(str(stored.get(k)) == str(asked.get(k)) for k in keys if k in asked)


def describe_subscribers_for_notification(self):
    budget = self.backend.budgets[self._get_param("AccountId")].get(self._get_param("BudgetName"))
    asked = self._get_param("Notification") or {}
    subscribers = []
    for n in budget.notifications if budget else []:
        if _notification_matches(n.details, asked):
            subscribers = n.subscribers
    return json.dumps({"Subscribers": subscribers, "NextToken": None})


def _budget_tags(backend):
    if not hasattr(backend, "_shim_tags"):
        backend._shim_tags = {}
    return backend._shim_tags


def tag_resource(self):
    tags = _budget_tags(self.backend).setdefault(self._get_param("ResourceARN"), {})
    for tag in self._get_param("ResourceTags") or []:
        tags[tag["Key"]] = tag["Value"]
    return json.dumps({})


def untag_resource(self):
    tags = _budget_tags(self.backend).get(self._get_param("ResourceARN"), {})
    for key in self._get_param("ResourceTagKeys") or []:
        tags.pop(key, None)
    return json.dumps({})


def list_tags_for_resource(self):
    tags = _budget_tags(self.backend).get(self._get_param("ResourceARN"), {})
    return json.dumps({"ResourceTags": [{"Key": k, "Value": v} for k, v in tags.items()]})


_create_budget = budgets_responses.BudgetsResponse.create_budget


def create_budget(self):
    body = _create_budget(self)
    tags = self._get_param("ResourceTags") or []
    if tags:
        arn = f"arn:aws:budgets::{self._get_param('AccountId')}:budget/{self._get_param('Budget')['BudgetName']}"
        _budget_tags(self.backend).setdefault(arn, {}).update({t["Key"]: t["Value"] for t in tags})
    return body


def update_budget(self):
    new = self._get_param("NewBudget")
    budget = self.backend.budgets[self._get_param("AccountId")].get(new["BudgetName"])
    if budget is None:
        return 400, {}, json.dumps({"__type": "NotFoundException", "message": "the budget doesn't exist"})
    kept = {k: v for k, v in budget.budget.items() if k in ("TimePeriod",) and k not in new}
    budget.budget = {**new, **kept, "LastUpdatedTime": unix_time()}
    return json.dumps({})


for _name in (
    "describe_subscribers_for_notification",
    "tag_resource",
    "untag_resource",
    "list_tags_for_resource",
    "create_budget",
    "update_budget",
):
    setattr(budgets_responses.BudgetsResponse, _name, globals()[_name])


# --- Application Auto Scaling: resource tags ---------------------------------------------------------
# moto implements no ListTagsForResource / TagResource / UntagResource, and drops RegisterScalableTarget's
# Tags. The provider reads tags after every create and read of aws_appautoscaling_target, and retries the
# "not implemented" 500 for minutes. Tags are kept per scalable-target ARN on the backend.

def _aas_tags(backend):
    if not hasattr(backend, "_shim_tags"):
        backend._shim_tags = {}
    return backend._shim_tags


_register = aas_responses.ApplicationAutoScalingResponse.register_scalable_target


def register_scalable_target(self):
    body = _register(self)
    tags = self._get_param("Tags")
    if tags:
        backend = self.applicationautoscaling_backend
        for target in backend._flatten_scalable_targets(self._get_param("ServiceNamespace")):
            if target.resource_id == self._get_param("ResourceId"):
                _aas_tags(backend).setdefault(target.arn, {}).update(tags)
    return body


def list_tags_for_resource(self):
    arn = self._get_param("ResourceARN")
    return json.dumps({"Tags": _aas_tags(self.applicationautoscaling_backend).get(arn, {})})


def tag_resource(self):
    arn = self._get_param("ResourceARN")
    _aas_tags(self.applicationautoscaling_backend).setdefault(arn, {}).update(self._get_param("Tags") or {})
    return "{}"


def untag_resource(self):
    tags = _aas_tags(self.applicationautoscaling_backend).get(self._get_param("ResourceARN"), {})
    for key in self._get_param("TagKeys") or []:
        tags.pop(key, None)
    return "{}"


for _name in ("register_scalable_target", "list_tags_for_resource", "tag_resource", "untag_resource"):
    setattr(aas_responses.ApplicationAutoScalingResponse, _name, globals()[_name])
assert hasattr(aas_models.ApplicationAutoscalingBackend, "_flatten_scalable_targets")


# --- ECS: CreateService keeps every field it was given -------------------------------------------------
# moto's CreateService drops fields it does not model (healthCheckGracePeriodSeconds,
# availabilityZoneRebalancing, deploymentConfiguration, ...) and DescribeServices then omits them, so the
# provider sees a change on every plan. UpdateService already stores any field as a snake_case attribute,
# which moto's serializer reads back; CreateService now does the same for the fields moto left unset.

_create_service = ecs_responses.EC2ContainerServiceResponse.create_service


def create_service(self):
    result = _create_service(self)
    service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
    for key, value in self._get_params().items():
        attr = ecs_responses.camelcase_to_underscores(key)
        if value is not None and getattr(service, attr, None) is None:
            setattr(service, attr, value)
    return result


ecs_responses.EC2ContainerServiceResponse.create_service = create_service


# --- EC2: an instance launched through a network interface specification (the NAT instance) ---------
# With associate_public_ip_address the provider launches through NetworkInterfaces[0]; moto puts its
# Groups on the interface only, AWS also reports them as the instance's SecurityGroups (which the
# provider reads back as vpc_security_group_ids). moto keeps no MaintenanceOptions either; AWS reports
# the automatic-recovery setting the instance was launched with (the provider sends "default").

_instance_init = ec2_instances.Instance.__init__


def _instance_init_with_groups(self, *args, **kwargs):
    _instance_init(self, *args, **kwargs)
    primary = self.nics.get(0)
    if not self.security_groups and primary is not None:
        self.security_groups = list(primary._group_set)
    self.maintenance_options = {"AutoRecovery": "default"}


ec2_instances.Instance.__init__ = _instance_init_with_groups


# --- RDS: the Data API on Aurora PostgreSQL provisioned / Serverless v2 -----------------------------
# moto keeps EnableHttpEndpoint only for Serverless v1 engine versions and silently stores False
# otherwise; AWS supports the Data API on Aurora PostgreSQL Serverless v2 and provisioned clusters.

_http_endpoint = rds_models.DBCluster.enable_http_endpoint


def _set_http_endpoint(self, val):
    _http_endpoint.fset(self, val)
    if val is not None and self.engine == "aurora-postgresql" and self.engine_mode == "provisioned":
        self._enable_http_endpoint = val


rds_models.DBCluster.enable_http_endpoint = property(_http_endpoint.fget, _set_http_endpoint)


# --- RDS Data API: transactions ---------------------------------------------------------------------------
# moto's Data API has ExecuteStatement only. The database bootstrap runs as one transaction (Begin, statements
# with its transactionId, Commit or Rollback); these answer as AWS does, and moto still runs no SQL.

from moto.rdsdata import responses as rdsdata_responses
from moto.rdsdata import urls as rdsdata_urls


def begin_transaction(self):
    return json.dumps({"transactionId": str(moto_random.uuid4())})


def commit_transaction(self):
    return json.dumps({"transactionStatus": "Transaction Committed"})


def rollback_transaction(self):
    return json.dumps({"transactionStatus": "Rollback Complete"})


for _name, _path in (
    ("begin_transaction", "BeginTransaction"),
    ("commit_transaction", "CommitTransaction"),
    ("rollback_transaction", "RollbackTransaction"),
):
    setattr(rdsdata_responses.RDSDataServiceResponse, _name, globals()[_name])
    rdsdata_urls.url_paths["{0}/%s$" % _path] = rdsdata_urls.response.dispatch


# --- RDS: no Serverless v1 scaling configuration on provisioned clusters ----------------------------
# moto reports an empty ScalingConfigurationInfo for every cluster; AWS reports it only for engine_mode
# "serverless". The provider reads the empty one as a scaling_configuration block and plans to change it.

_scaling_info = rds_models.DBCluster.scaling_configuration_info


def _scaling_configuration_info(self):
    return _scaling_info.fget(self) if self.engine_mode == "serverless" else None


rds_models.DBCluster.scaling_configuration_info = property(_scaling_configuration_info)


# --- EC2: descriptions of security group rules that reference another group ---------------------------
# DescribeSecurityGroupRules reads a rule's Description only from its CIDR range, so a rule whose peer is a
# security group (UserIdGroupPairs[].Description) comes back without one: a perpetual diff on
# aws_vpc_security_group_{ingress,egress}_rule.description.

def _rule_description(self):
    return self.ip_range.get("Description") or (self.source_group or {}).get("Description")


assert isinstance(ec2_security_groups.SecurityGroupRule.description, property)
ec2_security_groups.SecurityGroupRule.description = property(_rule_description)



# --- AWS Backup: backup selections ---------------------------------------------------------------------
# moto has backup plans and vaults but no selections (CreateBackupSelection answers "not implemented", which
# the provider retries for minutes). Selections are kept per plan on the backend, echoing what was sent.

def _selections(backend):
    if not hasattr(backend, "_shim_selections"):
        backend._shim_selections = {}
    return backend._shim_selections


def _plan_and_selection(path):
    parts = [p for p in path.split("/plans/", 1)[1].split("/") if p]
    # <plan id>/selections[/<selection id>]
    return parts[0], (parts[2] if len(parts) > 2 else None)


def create_backup_selection(self):
    plan_id, _ = _plan_and_selection(self.path)
    params = json.loads(self.body)
    selection_id = str(moto_random.uuid4())
    record = {
        "SelectionId": selection_id,
        "BackupPlanId": plan_id,
        "CreationDate": utcnow().timestamp(),
        "CreatorRequestId": params.get("CreatorRequestId"),
        "BackupSelection": params["BackupSelection"],
    }
    _selections(self.backup_backend)[selection_id] = record
    return json.dumps({k: record[k] for k in ("SelectionId", "BackupPlanId", "CreationDate", "CreatorRequestId")})


def get_backup_selection(self):
    plan_id, selection_id = _plan_and_selection(self.path)
    record = _selections(self.backup_backend).get(selection_id)
    if record is None or record["BackupPlanId"] != plan_id:
        raise ResourceNotFoundException(msg=f"Failed reading Backup Selection {selection_id}")
    return json.dumps(record)


def delete_backup_selection(self):
    _, selection_id = _plan_and_selection(self.path)
    _selections(self.backup_backend).pop(selection_id, None)
    return "{}"


def list_backup_selections(self):
    plan_id, _ = _plan_and_selection(self.path)
    listed = [
        {
            "SelectionId": r["SelectionId"],
            "SelectionName": r["BackupSelection"]["SelectionName"],
            "BackupPlanId": r["BackupPlanId"],
            "CreationDate": r["CreationDate"],
            "IamRoleArn": r["BackupSelection"]["IamRoleArn"],
        }
        for r in _selections(self.backup_backend).values()
        if r["BackupPlanId"] == plan_id
    ]
    return json.dumps({"BackupSelectionsList": listed})


for _name in ("create_backup_selection", "get_backup_selection", "delete_backup_selection", "list_backup_selections"):
    setattr(backup_responses.BackupResponse, _name, globals()[_name])



# --- AWS Backup: ListTags ---------------------------------------------------------------------------------
# moto takes the resource ARN from the second-to-last path segment, which is right only with a trailing
# slash; the provider sends GET /tags/<arn> without one, so plans and vaults read back with no tags.

def list_tags(self):
    arn = unquote(self.path.split("/tags/", 1)[1].strip("/"))
    return json.dumps({"Tags": self.backup_backend.list_tags(resource_arn=arn)})


backup_responses.BackupResponse.list_tags = list_tags


# --- RDS: Performance Insights on CreateDBInstance --------------------------------------------------------
# moto drops EnablePerformanceInsights, PerformanceInsightsKMSKeyId and PerformanceInsightsRetentionPeriod,
# so DescribeDBInstances reports them off: a perpetual diff on aws_rds_cluster_instance.

_PERFORMANCE_INSIGHTS = {
    "enable_performance_insights": "performance_insights_enabled",
    "performance_insights_kms_key_id": "performance_insights_kms_key_id",
    "performance_insights_retention_period": "performance_insights_retention_period",
}
_create_db_instance = rds_models.RDSBackend.create_db_instance


def create_db_instance(self, db_kwargs):
    database = _create_db_instance(self, dict(db_kwargs))
    for request, attr in _PERFORMANCE_INSIGHTS.items():
        if db_kwargs.get(request) is not None:
            setattr(database, attr, db_kwargs[request])
    return database


rds_models.RDSBackend.create_db_instance = create_db_instance


# --- KMS: key rotation period -----------------------------------------------------------------------------
# moto ignores EnableKeyRotation's RotationPeriodInDays and GetKeyRotationStatus never reports one; AWS
# reports the period (365 days unless set) while rotation is on.

_enable_key_rotation = kms_responses.KmsResponse.enable_key_rotation
_get_key_rotation_status = kms_responses.KmsResponse.get_key_rotation_status


def enable_key_rotation(self):
    body = _enable_key_rotation(self)
    key = self.kms_backend.describe_key(self._get_param("KeyId"))
    key._shim_rotation_period = self._get_param("RotationPeriodInDays") or 365
    return body


def get_key_rotation_status(self):
    status = json.loads(_get_key_rotation_status(self))
    if status.get("KeyRotationEnabled"):
        key = self.kms_backend.describe_key(self._get_param("KeyId"))
        status["RotationPeriodInDays"] = getattr(key, "_shim_rotation_period", 365)
    return json.dumps(status)


kms_responses.KmsResponse.enable_key_rotation = enable_key_rotation
kms_responses.KmsResponse.get_key_rotation_status = get_key_rotation_status



# --- AWS Backup: ListRecoveryPointsByBackupVault -----------------------------------------------------------
# Not routed by moto (404 with an HTML body). The provider lists a vault's recovery points before deleting
# it when force_destroy is set; the emulator never takes backups, so the list is always empty.

def list_recovery_points_by_backup_vault(self):
    return json.dumps({"RecoveryPoints": []})


backup_responses.BackupResponse.list_recovery_points_by_backup_vault = list_recovery_points_by_backup_vault
backup_urls.url_paths["{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/$"] = backup_urls.response.dispatch


# --- CodeBuild: projects whose source and artifacts are CODEPIPELINE -------------------------------------
# moto requires a location for every source and every artifacts type but NO_ARTIFACTS; AWS takes none for
# CODEPIPELINE (the pipeline hands the build its input) or NO_SOURCE, so CreateProject fails with "Project
# source location is required". moto also reports its own alias/aws/s3 as every project's encryptionKey,
# whatever was sent (the provider reads it back into aws_codebuild_project.encryption_key), and has no UpdateProject,
# which a changed project (a new agent changes the deploy projects' AGENTS) needs.

_validate_source = codebuild_responses._validate_required_params_source
_validate_artifacts = codebuild_responses._validate_required_params_artifacts


def _validate_required_params_source(source):
    if source.get("type") not in ("CODEPIPELINE", "NO_SOURCE"):
        _validate_source(source)


def _validate_required_params_artifacts(artifacts):
    if artifacts.get("type") != "CODEPIPELINE":
        _validate_artifacts(artifacts)


_create_project = codebuild_responses.CodeBuildResponse.create_project


def create_project(self):
    result = _create_project(self)
    if self._get_param("encryptionKey"):
        project = self.codebuild_backend.codebuild_projects[self._get_param("name")]
        project.project_metadata["encryptionKey"] = self._get_param("encryptionKey")
    return result


def update_project(self):
    project = self.codebuild_backend.codebuild_projects.get(self._get_param("name"))
    if project is None:
        raise codebuild_responses.ResourceNotFoundException(f"Project cannot be found: {self._get_param('name')}")
    for key, value in json.loads(self.body).items():
        if key != "name" and value is not None:
            project.project_metadata[key] = value
    project.project_metadata["lastModifiedDate"] = utcnow().timestamp()
    return ActionResult({"project": project.project_metadata})


codebuild_responses._validate_required_params_source = _validate_required_params_source
codebuild_responses._validate_required_params_artifacts = _validate_required_params_artifacts
codebuild_responses.CodeBuildResponse.create_project = create_project
codebuild_responses.CodeBuildResponse.update_project = update_project


# --- CodePipeline: timestamps as numbers ----------------------------------------------------------------------
# GetPipeline's metadata.created / metadata.updated are ISO strings in moto; the JSON protocol sends epoch
# seconds, and the provider's SDK fails to decode the string ("expected Timestamp to be a JSON Number").


def _pipeline_metadata(self):
    return {"pipelineArn": self._arn, "created": unix_time(self._created), "updated": unix_time(self._updated)}


assert isinstance(codepipeline_models.CodePipeline.metadata, property)
codepipeline_models.CodePipeline.metadata = property(_pipeline_metadata)


# --- CodeStar connections: the whole (small) API -------------------------------------------------------------
# moto has no CodeStar connections service: its dispatcher finds no backend for the signing name
# "codestar-connections" and fails every call with a 500, which the provider does not survive. Connections are
# kept in memory, per region, as AWS creates them: PENDING until someone completes the handshake in the
# console, which nothing here does. Requests are recognised by their JSON target prefix before moto's
# dispatcher sees them: JSON 1.0, X-Amz-Target "CodeStar_connections_20191201.<Action>" (the provider's Go SDK)
# or the same with botocore's "com.amazonaws.codestar.connections." in front.

_CONNECTIONS_TARGET = "CodeStar_connections_20191201"
_connections = {}  # ARN -> {"Connection": {...}, "Tags": {key: value}}


def _connections_error(kind, message):
    return 400, {"__type": kind, "message": message}


def _connection(arn):
    record = _connections.get(arn)
    if record is None:
        raise LookupError(arn)
    return record


def _connections_call(action, params, region):
    if action == "CreateConnection":
        name = params["ConnectionName"]
        if any(r["Connection"]["ConnectionName"] == name for r in _connections.values()):
            return _connections_error("ResourceUnavailableException", f"Connection {name} already exists")
        arn = f"arn:aws:codestar-connections:{region}:{DEFAULT_ACCOUNT_ID}:connection/{moto_random.uuid4()}"
        connection = {
            "ConnectionName": name,
            "ConnectionArn": arn,
            "OwnerAccountId": DEFAULT_ACCOUNT_ID,
            "ConnectionStatus": "PENDING",
        }
        for key in ("ProviderType", "HostArn"):
            if params.get(key):
                connection[key] = params[key]
        tags = {t["Key"]: t["Value"] for t in params.get("Tags") or []}
        _connections[arn] = {"Connection": connection, "Tags": tags}
        return 200, {"ConnectionArn": arn, "Tags": params.get("Tags") or []}
    arn = params.get("ConnectionArn") or params.get("ResourceArn")
    try:
        record = _connection(arn)
    except LookupError:
        return _connections_error("ResourceNotFoundException", f"Connection {arn} does not exist")
    if action == "GetConnection":
        return 200, {"Connection": record["Connection"]}
    if action == "ListTagsForResource":
        return 200, {"Tags": [{"Key": k, "Value": v} for k, v in sorted(record["Tags"].items())]}
    if action == "TagResource":
        record["Tags"].update({t["Key"]: t["Value"] for t in params.get("Tags") or []})
        return 200, {}
    if action == "UntagResource":
        for key in params.get("TagKeys") or []:
            record["Tags"].pop(key, None)
        return 200, {}
    if action == "DeleteConnection":
        del _connections[arn]
        return 200, {}
    return _connections_error("InvalidActionException", f"{action} is not emulated")


def _connections_app(environ, start_response):
    action = environ["HTTP_X_AMZ_TARGET"].rsplit(".", 1)[1]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    params = json.loads(environ["wsgi.input"].read(length) or b"{}")
    # Credential=<key>/<date>/<region>/codestar-connections/aws4_request
    region = environ.get("HTTP_AUTHORIZATION", "").split("Credential=", 1)[-1].split("/")[2:3] or ["us-east-1"]
    status, body = _connections_call(action, params, region[0])
    start_response(
        "200 OK" if status == 200 else "400 Bad Request",
        [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", str(moto_random.uuid4()))],
    )
    return [json.dumps(body).encode()]


_dispatch = DomainDispatcherApplication.__call__


def _dispatch_with_connections(self, environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[0].endswith(_CONNECTIONS_TARGET):
        return _connections_app(environ, start_response)
    return _dispatch(self, environ, start_response)


DomainDispatcherApplication.__call__ = _dispatch_with_connections


# --- Retried requests: answer a retry of a request moto already carried out ---------------------------------
# The provider's SDK retries a request whose answer it did not get (a dropped connection, a 5xx), and names
# each attempt: every attempt of one call has the same amz-sdk-invocation-id, and amz-sdk-request says which
# attempt it is. Under CI load a retried CreateRepository once failed with RepositoryAlreadyExists: its first
# attempt had created the repository. AWS answers a lost answer's retry the same way, but the emulator's
# lost answers are its own (one loaded Python server), so a retry of a call that moto answered with a 2xx
# gets that answer again. Every retry and every 5xx is logged with the "tfgen-shim:" prefix, which the test
# prints when an apply fails, so a retry whose first attempt failed inside moto shows its cause.

import threading
from collections import OrderedDict

_answered = OrderedDict()  # invocation id -> (status, headers, body) of its 2xx answer
_answered_lock = threading.Lock()
_ANSWERS_KEPT = 4096


def _call_name(environ):
    target = environ.get("HTTP_X_AMZ_TARGET")
    return target or f"{environ.get('REQUEST_METHOD')} {environ.get('HTTP_HOST')}{environ.get('PATH_INFO')}"


def _dispatch_replaying_retries(self, environ, start_response):
    invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
    attempt = environ.get("HTTP_AMZ_SDK_REQUEST", "")
    if invocation and attempt and not attempt.startswith("attempt=1;"):
        with _answered_lock:
            answer = _answered.get(invocation)
        print(
            f"tfgen-shim: {attempt} of {_call_name(environ)} ({invocation}): "
            + (f"replaying the first answer, {answer[0]}" if answer else "no earlier 2xx answer, carried out again"),
            file=sys.stderr,
            flush=True,
        )
        if answer:
            start_response(answer[0], answer[1])
            return [answer[2]]
    started = {}

    def capture(status, headers, exc_info=None):
        started["status"], started["headers"] = status, headers
        return start_response(status, headers, exc_info)

    chunks = _dispatch_with_connections(self, environ, capture)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    status = started.get("status", "")
    if status.startswith("5"):
        print(f"tfgen-shim: {status} for {_call_name(environ)}: {body[:500]!r}", file=sys.stderr, flush=True)
    if invocation and status.startswith("2"):
        with _answered_lock:
            _answered[invocation] = (status, started["headers"], body)
            while len(_answered) > _ANSWERS_KEPT:
                _answered.popitem(last=False)
    return [body]


DomainDispatcherApplication.__call__ = _dispatch_replaying_retries


# --- Lambda: run the uploaded code without Docker ----------------------------------------------------------
# moto runs a function's code only in a Docker container, which CI does not have; every Invoke would fail
# ("error running docker"). Here the function's own zip (as uploaded through S3) is unpacked and its handler
# run in a subprocess of this interpreter, with boto3 pointed at this server. For the database bootstrap that
# means: the real handler with the environment Terraform set, reading the agents' real (emulated) secrets as
# Terraform wrote them, and sending its statements to moto's RDS Data API, which accepts SQL without running it.
# The SQL itself is proven on a real PostgreSQL by tests/database.rs. Nothing else of the Lambda runtime is
# emulated (no context, no timeout).

import os
import subprocess
import tempfile
import zipfile
import io

from moto.awslambda import models as lambda_models

_RUNNER = """
import importlib, json, sys
module, function = sys.argv[1].rsplit(".", 1)
sys.path.insert(0, sys.argv[2])
handler = getattr(importlib.import_module(module), function)
print(json.dumps(handler(json.load(sys.stdin), None)))
"""


def _moto_port():
    args = sys.argv[1:]
    return args[args.index("-p") + 1] if "-p" in args else "5000"


def _invoke_lambda(self, event=None):
    self.logs_backend.ensure_log_group(self.logs_group_name)
    with tempfile.TemporaryDirectory() as code:
        zipfile.ZipFile(io.BytesIO(self.code_bytes)).extractall(code)
        env = dict(
            os.environ,
            AWS_ENDPOINT_URL="http://127.0.0.1:" + _moto_port(),
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION=self.region,
            AWS_LAMBDA_FUNCTION_NAME=self.function_name,
        )
        # The function's own environment (the bootstrap's cluster, master secret and database).
        env.update(self.environment_vars or {})
        run = subprocess.run(
            [sys.executable, "-c", _RUNNER, self.handler, code],
            input=json.dumps(event if event is not None else {}),
            capture_output=True,
            text=True,
            env=env,
            timeout=int(self.timeout or 60),
        )
    if run.returncode != 0:
        error = {"errorMessage": run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "failed"}
        return json.dumps(error), True, run.stderr
    return run.stdout.strip().splitlines()[-1], False, run.stderr


assert hasattr(lambda_models.LambdaFunction, "_invoke_lambda")
lambda_models.LambdaFunction._invoke_lambda = _invoke_lambda


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
