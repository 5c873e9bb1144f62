"""Stand-in for karbor.exception (test support, not karbor's code).

It reproduces what an oslo.messaging client needs to rebuild karbor failures
as karbor-api does: KarborException's constructor contract (message template
%-formatted with the kwargs; kwargs always gain the class's HTTP code; .msg
holds the text) and the class hierarchy, names, templates and codes of the
upstream catalog (data in _CATALOG below).
"""


class KarborException(Exception):
    message = "An unknown exception occurred."
    code = 500
    headers = {}
    safe = True

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if 'code' not in self.kwargs:
            self.kwargs['code'] = self.code
        if not message:
            try:
                message = self.message % kwargs
            except Exception:
                message = self.message
        elif isinstance(message, Exception):
            message = str(message)
        self.msg = message
        super().__init__(message)

    def __unicode__(self):
        return self.msg


class Error(Exception):
    pass


# (class, parent, message template, code or None to inherit)
_CATALOG = [
    ('NotAuthorized', 'KarborException', 'Not authorized.', 403),
    ('AdminRequired', 'NotAuthorized', 'User does not have admin privileges', None),
    ('PolicyNotAuthorized', 'NotAuthorized', "Policy doesn't allow %(action)s to be performed.", None),
    ('AuthorizationFailure', 'NotAuthorized', 'Authorization for %(obj)s is failed ', None),
    ('Invalid', 'KarborException', 'Unacceptable parameters.', 400),
    ('InvalidParameterValue', 'Invalid', '%(err)s', None),
    ('InvalidInput', 'Invalid', 'Invalid input received: %(reason)s', None),
    ('ScheduledOperationExist', 'Invalid', 'Scheduled Operation%(op_id)s exists', None),
    ('NotFound', 'KarborException', 'Resource could not be found.', 404),
    ('ConfigNotFound', 'NotFound', 'Could not find config at %(path)s', None),
    ('MalformedRequestBody', 'KarborException', 'Malformed message body: %(reason)s', None),
    ('InvalidContentType', 'Invalid', 'Invalid content type %(content_type)s.', None),
    ('InvalidProtectableInstance', 'Invalid', 'Invalid protectable instance.', None),
    ('PasteAppNotFound', 'NotFound', "Could not load paste app '%(name)s' from %(path)s", None),
    ('ServiceNotFound', 'NotFound', 'Service %(service_id)s could not be found.', None),
    ('HostBinaryNotFound', 'NotFound', 'Could not find binary %(binary)s on host %(host)s.', None),
    ('TriggerNotFound', 'NotFound', 'Trigger %(id)s could not be found.', None),
    ('ScheduledOperationNotFound', 'NotFound', 'Scheduled Operation %(id)s could not be found.', None),
    ('ScheduledOperationStateNotFound', 'NotFound', 'Scheduled Operation State %(op_id)s could not be found.', None),
    ('ScheduledOperationLogNotFound', 'NotFound', 'Scheduled Operation Log %(log_id)s could not be found.', None),
    ('ListProtectableResourceFailed', 'KarborException', 'List protectable resources of type %(type)s failed: %(reason)s', None),
    ('ProtectableResourceNotFound', 'NotFound', 'The resource %(id)s of type %(type)s could not be found: %(reason)s', None),
    ('ProtectableResourceInvalidStatus', 'KarborException', 'The resource %(id)s of type %(type)s has a invalid status: %(status)s', None),
    ('InvalidOperationObject', 'Invalid', 'The operation %(operation_id)s is invalid', None),
    ('DeleteTriggerNotAllowed', 'NotAuthorized', 'Can not delete trigger %(trigger_id)s', None),
    ('AccessCheckpointNotAllowed', 'NotAuthorized', 'Access checkpoint %(checkpoint_id)s is not allowed', None),
    ('DeleteCheckpointNotAllowed', 'NotAuthorized', 'Delete checkpoint %(checkpoint_id)s is not allowed', None),
    ('ClassNotFound', 'NotFound', 'Class %(class_name)s could not be found: %(exception)s', None),
    ('InvalidOperationDefinition', 'Invalid', 'Invalid operation definition, reason:%(reason)s', None),
    ('PlanNotFound', 'NotFound', 'Plan %(plan_id)s could not be found.', None),
    ('OperationLogFound', 'NotFound', 'Operation log %(operation_log_id)s could not be found.', None),
    ('RestoreNotFound', 'NotFound', 'Restore %(restore_id)s could not be found.', None),
    ('VerificationNotFound', 'NotFound', 'Verification %(verification_id)s could not be found.', None),
    ('OperationLogNotFound', 'NotFound', 'OperationLog %(restore_id)s could not be found.', None),
    ('InvalidPlan', 'Invalid', 'Invalid plan: %(reason)s', None),
    ('ProtectableTypeNotFound', 'NotFound', 'ProtectableType %(protectable_type)s could not be found.', None),
    ('ProtectionPluginNotFound', 'NotFound', 'Protection Plugin for %(type)s could not be found.', None),
    ('ProviderNotFound', 'NotFound', 'Provider %(provider_id)s could not be found.', None),
    ('CheckpointRecordNotFound', 'NotFound', 'CheckpointRecord %(id)s could not be found.', None),
    ('CreateResourceFailed', 'KarborException', 'Create %(name)s failed: %(reason)s, id=%(resource_id)s, type=%(resource_type)s', None),
    ('DeleteResourceFailed', 'KarborException', 'Delete %(name)s failed: %(reason)s, id=%(resource_id)s, type=%(resource_type)s', None),
    ('RestoreResourceFailed', 'KarborException', 'Restore %(name)s failed: %(reason)s, id=%(resource_id)s, type=%(resource_type)s', None),
    ('VerifyResourceFailed', 'KarborException', 'Verify %(name)s failed: %(reason)s, id=%(resource_id)s, type=%(resource_type)s', None),
    ('FlowError', 'KarborException', 'Flow: %(flow)s, Error: %(error)s', None),
    ('CheckpointNotFound', 'NotFound', 'Checkpoint %(checkpoint_id)s could not be found.', None),
    ('BankCreateObjectFailed', 'KarborException', 'Create Object in Bank Failed: %(reason)s', None),
    ('BankUpdateObjectFailed', 'KarborException', 'Update Object %(key)s in Bank Failed: %(reason)s', None),
    ('BankDeleteObjectFailed', 'KarborException', 'Delete Object %(key)s in Bank Failed: %(reason)s', None),
    ('BankGetObjectFailed', 'KarborException', 'Get Object %(key)s in Bank Failed: %(reason)s', None),
    ('BankListObjectsFailed', 'KarborException', 'Get Object in Bank Failed: %(reason)s', None),
    ('BankReadonlyViolation', 'KarborException', 'Bank read-only violation', None),
    ('AcquireLeaseFailed', 'KarborException', 'Acquire Lease in Failed: %(reason)s', None),
    ('CreateContainerFailed', 'KarborException', 'Create Container in Bank Failed: %(reason)s', None),
    ('CreateBucketFailed', 'KarborException', 'Create Bucket in Bank Failed: %(reason)s', None),
    ('TriggerIsInvalid', 'Invalid', 'Trigger%(trigger_id)s is invalid.', None),
    ('InvalidTaskFlowObject', 'Invalid', 'The task flow is invalid: %(reason)s', None),
    ('InvalidOriginalId', 'Invalid', 'The original_id: %(original_id)s is invalid.', None),
    ('CheckpointNotAvailable', 'KarborException', 'The checkpoint %(checkpoint_id)s is not available', None),
    ('CheckpointNotBeDeleted', 'KarborException', 'The checkpoint %(checkpoint_id)s can not be deleted.', None),
    ('CheckpointNotBeReset', 'KarborException', 'The checkpoint %(checkpoint_id)s can not be reset.', None),
    ('GetProtectionNetworkSubResourceFailed', 'KarborException', 'Get protection network sub-resources of type %(type)s failed: %(reason)s', None),
    ('QuotaNotFound', 'NotFound', 'Quota could not be found', None),
    ('QuotaResourceUnknown', 'QuotaNotFound', 'Unknown quota resources %(unknown)s.', None),
    ('ProjectQuotaNotFound', 'QuotaNotFound', 'Quota for project %(project_id)s could not be found.', None),
    ('QuotaClassNotFound', 'QuotaNotFound', 'Quota class %(class_name)s could not be found.', None),
    ('QuotaUsageNotFound', 'QuotaNotFound', 'Quota usage for project %(project_id)s could not be found.', None),
    ('ReservationNotFound', 'QuotaNotFound', 'Quota reservation %(uuid)s could not be found.', None),
    ('OverQuota', 'KarborException', 'Quota exceeded for resources: %(overs)s', None),
    ('InvalidReservationExpiration', 'Invalid', 'Invalid reservation expiration %(expire)s.', None),
    ('InvalidQuotaValue', 'Invalid', 'Change would make usage less than 0 for the following resources: %(unders)s.', None),
    ('QuotaError', 'KarborException', 'Quota exceeded: code=%(code)s', 413),
    ('PlanLimitExceeded', 'QuotaError', 'Maximum number of plans allowed (%(allowed)d) exceeded', None),
    ('CheckpointLimitExceeded', 'QuotaError', 'Maximum number of checkpoints allowed (%(allowed)d) exceeded', None),
    ('UnexpectedOverQuota', 'QuotaError', 'Unexpected over quota on %(name)s.', None),
    ('InvalidName', 'Invalid', "An invalid 'name' value was provided. %(reason)s", None),
    ('ValidationError', 'Invalid', '%(detail)s', None),
]


def _build():
    for name, parent, template, code in _CATALOG:
        attrs = {'message': template, '__module__': __name__}
        if code is not None:
            attrs['code'] = code
        globals()[name] = type(name, (globals()[parent],), attrs)


_build()
