package karbor

// The catalog of karbor.exception: every KarborException subclass with its
// parent, HTTP code (0 inherits the parent's), message template and the
// keyword arguments the template uses (in the order the Python service passes
// them, which is the order of PythonKwargKeys).
var (
	ExcKarborException                       = newClass("KarborException", nil, 500, "An unknown exception occurred.")
	ExcNotAuthorized                         = newClass("NotAuthorized", ExcKarborException, 403, "Not authorized.")
	ExcAdminRequired                         = newClass("AdminRequired", ExcNotAuthorized, 0, "User does not have admin privileges")
	ExcPolicyNotAuthorized                   = newClass("PolicyNotAuthorized", ExcNotAuthorized, 0, "Policy doesn't allow %(action)s to be performed.", "action")
	ExcAuthorizationFailure                  = newClass("AuthorizationFailure", ExcNotAuthorized, 0, "Authorization for %(obj)s is failed ", "obj")
	ExcInvalid                               = newClass("Invalid", ExcKarborException, 400, "Unacceptable parameters.")
	ExcInvalidParameterValue                 = newClass("InvalidParameterValue", ExcInvalid, 0, "%(err)s", "err")
	ExcInvalidInput                          = newClass("InvalidInput", ExcInvalid, 0, "Invalid input received: %(reason)s", "reason")
	ExcScheduledOperationExist               = newClass("ScheduledOperationExist", ExcInvalid, 0, "Scheduled Operation%(op_id)s exists", "op_id")
	ExcNotFound                              = newClass("NotFound", ExcKarborException, 404, "Resource could not be found.")
	ExcConfigNotFound                        = newClass("ConfigNotFound", ExcNotFound, 0, "Could not find config at %(path)s", "path")
	ExcMalformedRequestBody                  = newClass("MalformedRequestBody", ExcKarborException, 0, "Malformed message body: %(reason)s", "reason")
	ExcInvalidContentType                    = newClass("InvalidContentType", ExcInvalid, 0, "Invalid content type %(content_type)s.", "content_type")
	ExcInvalidProtectableInstance            = newClass("InvalidProtectableInstance", ExcInvalid, 0, "Invalid protectable instance.")
	ExcPasteAppNotFound                      = newClass("PasteAppNotFound", ExcNotFound, 0, "Could not load paste app '%(name)s' from %(path)s", "name", "path")
	ExcServiceNotFound                       = newClass("ServiceNotFound", ExcNotFound, 0, "Service %(service_id)s could not be found.", "service_id")
	ExcHostBinaryNotFound                    = newClass("HostBinaryNotFound", ExcNotFound, 0, "Could not find binary %(binary)s on host %(host)s.", "binary", "host")
	ExcTriggerNotFound                       = newClass("TriggerNotFound", ExcNotFound, 0, "Trigger %(id)s could not be found.", "id")
	ExcScheduledOperationNotFound            = newClass("ScheduledOperationNotFound", ExcNotFound, 0, "Scheduled Operation %(id)s could not be found.", "id")
	ExcScheduledOperationStateNotFound       = newClass("ScheduledOperationStateNotFound", ExcNotFound, 0, "Scheduled Operation State %(op_id)s could not be found.", "op_id")
	ExcScheduledOperationLogNotFound         = newClass("ScheduledOperationLogNotFound", ExcNotFound, 0, "Scheduled Operation Log %(log_id)s could not be found.", "log_id")
	ExcListProtectableResourceFailed         = newClass("ListProtectableResourceFailed", ExcKarborException, 0, "List protectable resources of type %(type)s failed: %(reason)s", "type", "reason")
	ExcProtectableResourceNotFound           = newClass("ProtectableResourceNotFound", ExcNotFound, 0, "The resource %(id)s of type %(type)s could not be found: %(reason)s", "id", "type", "reason")
	ExcProtectableResourceInvalidStatus      = newClass("ProtectableResourceInvalidStatus", ExcKarborException, 0, "The resource %(id)s of type %(type)s has a invalid status: %(status)s", "id", "type", "status")
	ExcInvalidOperationObject                = newClass("InvalidOperationObject", ExcInvalid, 0, "The operation %(operation_id)s is invalid", "operation_id")
	ExcDeleteTriggerNotAllowed               = newClass("DeleteTriggerNotAllowed", ExcNotAuthorized, 0, "Can not delete trigger %(trigger_id)s", "trigger_id")
	ExcAccessCheckpointNotAllowed            = newClass("AccessCheckpointNotAllowed", ExcNotAuthorized, 0, "Access checkpoint %(checkpoint_id)s is not allowed", "checkpoint_id")
	ExcDeleteCheckpointNotAllowed            = newClass("DeleteCheckpointNotAllowed", ExcNotAuthorized, 0, "Delete checkpoint %(checkpoint_id)s is not allowed", "checkpoint_id")
	ExcClassNotFound                         = newClass("ClassNotFound", ExcNotFound, 0, "Class %(class_name)s could not be found: %(exception)s", "class_name", "exception")
	ExcInvalidOperationDefinition            = newClass("InvalidOperationDefinition", ExcInvalid, 0, "Invalid operation definition, reason:%(reason)s", "reason")
	ExcPlanNotFound                          = newClass("PlanNotFound", ExcNotFound, 0, "Plan %(plan_id)s could not be found.", "plan_id")
	ExcOperationLogFound                     = newClass("OperationLogFound", ExcNotFound, 0, "Operation log %(operation_log_id)s could not be found.", "operation_log_id")
	ExcRestoreNotFound                       = newClass("RestoreNotFound", ExcNotFound, 0, "Restore %(restore_id)s could not be found.", "restore_id")
	ExcVerificationNotFound                  = newClass("VerificationNotFound", ExcNotFound, 0, "Verification %(verification_id)s could not be found.", "verification_id")
	ExcOperationLogNotFound                  = newClass("OperationLogNotFound", ExcNotFound, 0, "OperationLog %(restore_id)s could not be found.", "restore_id")
	ExcInvalidPlan                           = newClass("InvalidPlan", ExcInvalid, 0, "Invalid plan: %(reason)s", "reason")
	ExcProtectableTypeNotFound               = newClass("ProtectableTypeNotFound", ExcNotFound, 0, "ProtectableType %(protectable_type)s could not be found.", "protectable_type")
	ExcProtectionPluginNotFound              = newClass("ProtectionPluginNotFound", ExcNotFound, 0, "Protection Plugin for %(type)s could not be found.", "type")
	ExcProviderNotFound                      = newClass("ProviderNotFound", ExcNotFound, 0, "Provider %(provider_id)s could not be found.", "provider_id")
	ExcCheckpointRecordNotFound              = newClass("CheckpointRecordNotFound", ExcNotFound, 0, "CheckpointRecord %(id)s could not be found.", "id")
	ExcCreateResourceFailed                  = newClass("CreateResourceFailed", ExcKarborException, 0, "Create %(name)s failed: %(reason)s, id=%(resource_id)s, type=%(resource_type)s", "name", "reason", "resource_id", "resource_type")
	ExcDeleteResourceFailed                  = newClass("DeleteResourceFailed", ExcKarborException, 0, "Delete %(name)s failed: %(reason)s, id=%(resource_id)s, type=%(resource_type)s", "name", "reason", "resource_id", "resource_type")
	ExcRestoreResourceFailed                 = newClass("RestoreResourceFailed", ExcKarborException, 0, "Restore %(name)s failed: %(reason)s, id=%(resource_id)s, type=%(resource_type)s", "name", "reason", "resource_id", "resource_type")
	ExcVerifyResourceFailed                  = newClass("VerifyResourceFailed", ExcKarborException, 0, "Verify %(name)s failed: %(reason)s, id=%(resource_id)s, type=%(resource_type)s", "name", "reason", "resource_id", "resource_type")
	ExcFlowError                             = newClass("FlowError", ExcKarborException, 0, "Flow: %(flow)s, Error: %(error)s", "flow", "error")
	ExcCheckpointNotFound                    = newClass("CheckpointNotFound", ExcNotFound, 0, "Checkpoint %(checkpoint_id)s could not be found.", "checkpoint_id")
	ExcBankCreateObjectFailed                = newClass("BankCreateObjectFailed", ExcKarborException, 0, "Create Object in Bank Failed: %(reason)s", "reason")
	ExcBankUpdateObjectFailed                = newClass("BankUpdateObjectFailed", ExcKarborException, 0, "Update Object %(key)s in Bank Failed: %(reason)s", "reason", "key")
	ExcBankDeleteObjectFailed                = newClass("BankDeleteObjectFailed", ExcKarborException, 0, "Delete Object %(key)s in Bank Failed: %(reason)s", "reason", "key")
	ExcBankGetObjectFailed                   = newClass("BankGetObjectFailed", ExcKarborException, 0, "Get Object %(key)s in Bank Failed: %(reason)s", "reason", "key")
	ExcBankListObjectsFailed                 = newClass("BankListObjectsFailed", ExcKarborException, 0, "Get Object in Bank Failed: %(reason)s", "reason")
	ExcBankReadonlyViolation                 = newClass("BankReadonlyViolation", ExcKarborException, 0, "Bank read-only violation")
	ExcAcquireLeaseFailed                    = newClass("AcquireLeaseFailed", ExcKarborException, 0, "Acquire Lease in Failed: %(reason)s", "reason")
	ExcCreateContainerFailed                 = newClass("CreateContainerFailed", ExcKarborException, 0, "Create Container in Bank Failed: %(reason)s", "reason")
	ExcCreateBucketFailed                    = newClass("CreateBucketFailed", ExcKarborException, 0, "Create Bucket in Bank Failed: %(reason)s", "reason")
	ExcTriggerIsInvalid                      = newClass("TriggerIsInvalid", ExcInvalid, 0, "Trigger%(trigger_id)s is invalid.", "trigger_id")
	ExcInvalidTaskFlowObject                 = newClass("InvalidTaskFlowObject", ExcInvalid, 0, "The task flow is invalid: %(reason)s", "reason")
	ExcInvalidOriginalId                     = newClass("InvalidOriginalId", ExcInvalid, 0, "The original_id: %(original_id)s is invalid.", "original_id")
	ExcCheckpointNotAvailable                = newClass("CheckpointNotAvailable", ExcKarborException, 0, "The checkpoint %(checkpoint_id)s is not available", "checkpoint_id")
	ExcCheckpointNotBeDeleted                = newClass("CheckpointNotBeDeleted", ExcKarborException, 0, "The checkpoint %(checkpoint_id)s can not be deleted.", "checkpoint_id")
	ExcCheckpointNotBeReset                  = newClass("CheckpointNotBeReset", ExcKarborException, 0, "The checkpoint %(checkpoint_id)s can not be reset.", "checkpoint_id")
	ExcGetProtectionNetworkSubResourceFailed = newClass("GetProtectionNetworkSubResourceFailed", ExcKarborException, 0, "Get protection network sub-resources of type %(type)s failed: %(reason)s", "type", "reason")
	ExcQuotaNotFound                         = newClass("QuotaNotFound", ExcNotFound, 0, "Quota could not be found")
	ExcQuotaResourceUnknown                  = newClass("QuotaResourceUnknown", ExcQuotaNotFound, 0, "Unknown quota resources %(unknown)s.", "unknown")
	ExcProjectQuotaNotFound                  = newClass("ProjectQuotaNotFound", ExcQuotaNotFound, 0, "Quota for project %(project_id)s could not be found.", "project_id")
	ExcQuotaClassNotFound                    = newClass("QuotaClassNotFound", ExcQuotaNotFound, 0, "Quota class %(class_name)s could not be found.", "class_name")
	ExcQuotaUsageNotFound                    = newClass("QuotaUsageNotFound", ExcQuotaNotFound, 0, "Quota usage for project %(project_id)s could not be found.", "project_id")
	ExcReservationNotFound                   = newClass("ReservationNotFound", ExcQuotaNotFound, 0, "Quota reservation %(uuid)s could not be found.", "uuid")
	ExcOverQuota                             = newClass("OverQuota", ExcKarborException, 0, "Quota exceeded for resources: %(overs)s", "overs")
	ExcInvalidReservationExpiration          = newClass("InvalidReservationExpiration", ExcInvalid, 0, "Invalid reservation expiration %(expire)s.", "expire")
	ExcInvalidQuotaValue                     = newClass("InvalidQuotaValue", ExcInvalid, 0, "Change would make usage less than 0 for the following resources: %(unders)s.", "unders")
	ExcQuotaError                            = newClass("QuotaError", ExcKarborException, 413, "Quota exceeded: code=%(code)s")
	ExcPlanLimitExceeded                     = newClass("PlanLimitExceeded", ExcQuotaError, 0, "Maximum number of plans allowed (%(allowed)d) exceeded", "allowed")
	ExcCheckpointLimitExceeded               = newClass("CheckpointLimitExceeded", ExcQuotaError, 0, "Maximum number of checkpoints allowed (%(allowed)d) exceeded", "allowed")
	ExcUnexpectedOverQuota                   = newClass("UnexpectedOverQuota", ExcQuotaError, 0, "Unexpected over quota on %(name)s.", "name")
	ExcInvalidName                           = newClass("InvalidName", ExcInvalid, 0, "An invalid 'name' value was provided. %(reason)s", "reason")
	ExcValidationError                       = newClass("ValidationError", ExcInvalid, 0, "%(detail)s", "detail")
)

// KarborException is karbor.exception.KarborException (500) with a free-text
// message, as KarborException("...") is raised; an empty message gives the
// class template "An unknown exception occurred.".
func KarborException(message string) *Error { return ExcKarborException.NewWithMessage(message) }

// NotAuthorized is karbor.exception.NotAuthorized (KarborException): "Not authorized."
func NotAuthorized() *Error { return ExcNotAuthorized.New() }

// AdminRequired is karbor.exception.AdminRequired (NotAuthorized): "User does not have admin privileges"
func AdminRequired() *Error { return ExcAdminRequired.New() }

// PolicyNotAuthorized is karbor.exception.PolicyNotAuthorized (NotAuthorized): "Policy doesn't allow %(action)s to be performed."
func PolicyNotAuthorized(action string) *Error {
	return ExcPolicyNotAuthorized.New(Kwarg{"action", action})
}

// AuthorizationFailure is karbor.exception.AuthorizationFailure (NotAuthorized): "Authorization for %(obj)s is failed "
func AuthorizationFailure(obj string) *Error { return ExcAuthorizationFailure.New(Kwarg{"obj", obj}) }

// Invalid is karbor.exception.Invalid (KarborException): "Unacceptable parameters."
func Invalid() *Error { return ExcInvalid.New() }

// InvalidParameterValue is karbor.exception.InvalidParameterValue (Invalid): "%(err)s"
func InvalidParameterValue(err string) *Error { return ExcInvalidParameterValue.New(Kwarg{"err", err}) }

// InvalidInput is karbor.exception.InvalidInput (Invalid): "Invalid input received: %(reason)s"
func InvalidInput(reason string) *Error { return ExcInvalidInput.New(Kwarg{"reason", reason}) }

// ScheduledOperationExist is karbor.exception.ScheduledOperationExist (Invalid): "Scheduled Operation%(op_id)s exists"
func ScheduledOperationExist(opID string) *Error {
	return ExcScheduledOperationExist.New(Kwarg{"op_id", opID})
}

// NotFound is karbor.exception.NotFound (KarborException): "Resource could not be found."
func NotFound() *Error { return ExcNotFound.New() }

// ConfigNotFound is karbor.exception.ConfigNotFound (NotFound): "Could not find config at %(path)s"
func ConfigNotFound(path string) *Error { return ExcConfigNotFound.New(Kwarg{"path", path}) }

// MalformedRequestBody is karbor.exception.MalformedRequestBody (KarborException): "Malformed message body: %(reason)s"
func MalformedRequestBody(reason string) *Error {
	return ExcMalformedRequestBody.New(Kwarg{"reason", reason})
}

// InvalidContentType is karbor.exception.InvalidContentType (Invalid): "Invalid content type %(content_type)s."
func InvalidContentType(contentType string) *Error {
	return ExcInvalidContentType.New(Kwarg{"content_type", contentType})
}

// InvalidProtectableInstance is karbor.exception.InvalidProtectableInstance (Invalid): "Invalid protectable instance."
func InvalidProtectableInstance() *Error { return ExcInvalidProtectableInstance.New() }

// PasteAppNotFound is karbor.exception.PasteAppNotFound (NotFound): "Could not load paste app '%(name)s' from %(path)s"
func PasteAppNotFound(name string, path string) *Error {
	return ExcPasteAppNotFound.New(Kwarg{"name", name}, Kwarg{"path", path})
}

// ServiceNotFound is karbor.exception.ServiceNotFound (NotFound): "Service %(service_id)s could not be found."
func ServiceNotFound(serviceID string) *Error {
	return ExcServiceNotFound.New(Kwarg{"service_id", serviceID})
}

// HostBinaryNotFound is karbor.exception.HostBinaryNotFound (NotFound): "Could not find binary %(binary)s on host %(host)s."
func HostBinaryNotFound(binary string, host string) *Error {
	return ExcHostBinaryNotFound.New(Kwarg{"binary", binary}, Kwarg{"host", host})
}

// TriggerNotFound is karbor.exception.TriggerNotFound (NotFound): "Trigger %(id)s could not be found."
func TriggerNotFound(id string) *Error { return ExcTriggerNotFound.New(Kwarg{"id", id}) }

// ScheduledOperationNotFound is karbor.exception.ScheduledOperationNotFound (NotFound): "Scheduled Operation %(id)s could not be found."
func ScheduledOperationNotFound(id string) *Error {
	return ExcScheduledOperationNotFound.New(Kwarg{"id", id})
}

// ScheduledOperationStateNotFound is karbor.exception.ScheduledOperationStateNotFound (NotFound): "Scheduled Operation State %(op_id)s could not be found."
func ScheduledOperationStateNotFound(opID string) *Error {
	return ExcScheduledOperationStateNotFound.New(Kwarg{"op_id", opID})
}

// ScheduledOperationLogNotFound is karbor.exception.ScheduledOperationLogNotFound (NotFound): "Scheduled Operation Log %(log_id)s could not be found."
func ScheduledOperationLogNotFound(logID string) *Error {
	return ExcScheduledOperationLogNotFound.New(Kwarg{"log_id", logID})
}

// ListProtectableResourceFailed is karbor.exception.ListProtectableResourceFailed (KarborException): "List protectable resources of type %(type)s failed: %(reason)s"
func ListProtectableResourceFailed(typ string, reason string) *Error {
	return ExcListProtectableResourceFailed.New(Kwarg{"type", typ}, Kwarg{"reason", reason})
}

// ProtectableResourceNotFound is karbor.exception.ProtectableResourceNotFound (NotFound): "The resource %(id)s of type %(type)s could not be found: %(reason)s"
func ProtectableResourceNotFound(id string, typ string, reason string) *Error {
	return ExcProtectableResourceNotFound.New(Kwarg{"id", id}, Kwarg{"type", typ}, Kwarg{"reason", reason})
}

// ProtectableResourceInvalidStatus is karbor.exception.ProtectableResourceInvalidStatus (KarborException): "The resource %(id)s of type %(type)s has a invalid status: %(status)s"
func ProtectableResourceInvalidStatus(id string, typ string, status string) *Error {
	return ExcProtectableResourceInvalidStatus.New(Kwarg{"id", id}, Kwarg{"type", typ}, Kwarg{"status", status})
}

// InvalidOperationObject is karbor.exception.InvalidOperationObject (Invalid): "The operation %(operation_id)s is invalid"
func InvalidOperationObject(operationID string) *Error {
	return ExcInvalidOperationObject.New(Kwarg{"operation_id", operationID})
}

// DeleteTriggerNotAllowed is karbor.exception.DeleteTriggerNotAllowed (NotAuthorized): "Can not delete trigger %(trigger_id)s"
func DeleteTriggerNotAllowed(triggerID string) *Error {
	return ExcDeleteTriggerNotAllowed.New(Kwarg{"trigger_id", triggerID})
}

// AccessCheckpointNotAllowed is karbor.exception.AccessCheckpointNotAllowed (NotAuthorized): "Access checkpoint %(checkpoint_id)s is not allowed"
func AccessCheckpointNotAllowed(checkpointID string) *Error {
	return ExcAccessCheckpointNotAllowed.New(Kwarg{"checkpoint_id", checkpointID})
}

// DeleteCheckpointNotAllowed is karbor.exception.DeleteCheckpointNotAllowed (NotAuthorized): "Delete checkpoint %(checkpoint_id)s is not allowed"
func DeleteCheckpointNotAllowed(checkpointID string) *Error {
	return ExcDeleteCheckpointNotAllowed.New(Kwarg{"checkpoint_id", checkpointID})
}

// ClassNotFound is karbor.exception.ClassNotFound (NotFound): "Class %(class_name)s could not be found: %(exception)s"
func ClassNotFound(className string, exception string) *Error {
	return ExcClassNotFound.New(Kwarg{"class_name", className}, Kwarg{"exception", exception})
}

// InvalidOperationDefinition is karbor.exception.InvalidOperationDefinition (Invalid): "Invalid operation definition, reason:%(reason)s"
func InvalidOperationDefinition(reason string) *Error {
	return ExcInvalidOperationDefinition.New(Kwarg{"reason", reason})
}

// PlanNotFound is karbor.exception.PlanNotFound (NotFound): "Plan %(plan_id)s could not be found."
func PlanNotFound(planID string) *Error { return ExcPlanNotFound.New(Kwarg{"plan_id", planID}) }

// OperationLogFound is karbor.exception.OperationLogFound (NotFound): "Operation log %(operation_log_id)s could not be found."
func OperationLogFound(operationLogID string) *Error {
	return ExcOperationLogFound.New(Kwarg{"operation_log_id", operationLogID})
}

// RestoreNotFound is karbor.exception.RestoreNotFound (NotFound): "Restore %(restore_id)s could not be found."
func RestoreNotFound(restoreID string) *Error {
	return ExcRestoreNotFound.New(Kwarg{"restore_id", restoreID})
}

// VerificationNotFound is karbor.exception.VerificationNotFound (NotFound): "Verification %(verification_id)s could not be found."
func VerificationNotFound(verificationID string) *Error {
	return ExcVerificationNotFound.New(Kwarg{"verification_id", verificationID})
}

// OperationLogNotFound is karbor.exception.OperationLogNotFound (NotFound): "OperationLog %(restore_id)s could not be found."
func OperationLogNotFound(restoreID string) *Error {
	return ExcOperationLogNotFound.New(Kwarg{"restore_id", restoreID})
}

// InvalidPlan is karbor.exception.InvalidPlan (Invalid): "Invalid plan: %(reason)s"
func InvalidPlan(reason string) *Error { return ExcInvalidPlan.New(Kwarg{"reason", reason}) }

// ProtectableTypeNotFound is karbor.exception.ProtectableTypeNotFound (NotFound): "ProtectableType %(protectable_type)s could not be found."
func ProtectableTypeNotFound(protectableType string) *Error {
	return ExcProtectableTypeNotFound.New(Kwarg{"protectable_type", protectableType})
}

// ProtectionPluginNotFound is karbor.exception.ProtectionPluginNotFound (NotFound): "Protection Plugin for %(type)s could not be found."
func ProtectionPluginNotFound(typ string) *Error {
	return ExcProtectionPluginNotFound.New(Kwarg{"type", typ})
}

// ProviderNotFound is karbor.exception.ProviderNotFound (NotFound): "Provider %(provider_id)s could not be found."
func ProviderNotFound(providerID string) *Error {
	return ExcProviderNotFound.New(Kwarg{"provider_id", providerID})
}

// CheckpointRecordNotFound is karbor.exception.CheckpointRecordNotFound (NotFound): "CheckpointRecord %(id)s could not be found."
func CheckpointRecordNotFound(id string) *Error {
	return ExcCheckpointRecordNotFound.New(Kwarg{"id", id})
}

// CreateResourceFailed is karbor.exception.CreateResourceFailed (KarborException): "Create %(name)s failed: %(reason)s, id=%(resource_id)s, type=%(resource_type)s"
func CreateResourceFailed(name string, reason string, resourceID string, resourceType string) *Error {
	return ExcCreateResourceFailed.New(Kwarg{"name", name}, Kwarg{"reason", reason}, Kwarg{"resource_id", resourceID}, Kwarg{"resource_type", resourceType})
}

// DeleteResourceFailed is karbor.exception.DeleteResourceFailed (KarborException): "Delete %(name)s failed: %(reason)s, id=%(resource_id)s, type=%(resource_type)s"
func DeleteResourceFailed(name string, reason string, resourceID string, resourceType string) *Error {
	return ExcDeleteResourceFailed.New(Kwarg{"name", name}, Kwarg{"reason", reason}, Kwarg{"resource_id", resourceID}, Kwarg{"resource_type", resourceType})
}

// RestoreResourceFailed is karbor.exception.RestoreResourceFailed (KarborException): "Restore %(name)s failed: %(reason)s, id=%(resource_id)s, type=%(resource_type)s"
func RestoreResourceFailed(name string, reason string, resourceID string, resourceType string) *Error {
	return ExcRestoreResourceFailed.New(Kwarg{"name", name}, Kwarg{"reason", reason}, Kwarg{"resource_id", resourceID}, Kwarg{"resource_type", resourceType})
}

// VerifyResourceFailed is karbor.exception.VerifyResourceFailed (KarborException): "Verify %(name)s failed: %(reason)s, id=%(resource_id)s, type=%(resource_type)s"
func VerifyResourceFailed(name string, reason string, resourceID string, resourceType string) *Error {
	return ExcVerifyResourceFailed.New(Kwarg{"name", name}, Kwarg{"reason", reason}, Kwarg{"resource_id", resourceID}, Kwarg{"resource_type", resourceType})
}

// FlowError is karbor.exception.FlowError (KarborException): "Flow: %(flow)s, Error: %(error)s"
func FlowError(flow string, err string) *Error {
	return ExcFlowError.New(Kwarg{"flow", flow}, Kwarg{"error", err})
}

// CheckpointNotFound is karbor.exception.CheckpointNotFound (NotFound): "Checkpoint %(checkpoint_id)s could not be found."
func CheckpointNotFound(checkpointID string) *Error {
	return ExcCheckpointNotFound.New(Kwarg{"checkpoint_id", checkpointID})
}

// BankCreateObjectFailed is karbor.exception.BankCreateObjectFailed (KarborException): "Create Object in Bank Failed: %(reason)s"
func BankCreateObjectFailed(reason string) *Error {
	return ExcBankCreateObjectFailed.New(Kwarg{"reason", reason})
}

// BankUpdateObjectFailed is karbor.exception.BankUpdateObjectFailed (KarborException): "Update Object %(key)s in Bank Failed: %(reason)s"
func BankUpdateObjectFailed(key, reason string) *Error {
	return ExcBankUpdateObjectFailed.New(Kwarg{"reason", reason}, Kwarg{"key", key})
}

// BankDeleteObjectFailed is karbor.exception.BankDeleteObjectFailed (KarborException): "Delete Object %(key)s in Bank Failed: %(reason)s"
func BankDeleteObjectFailed(key, reason string) *Error {
	return ExcBankDeleteObjectFailed.New(Kwarg{"reason", reason}, Kwarg{"key", key})
}

// BankGetObjectFailed is karbor.exception.BankGetObjectFailed (KarborException): "Get Object %(key)s in Bank Failed: %(reason)s"
func BankGetObjectFailed(key, reason string) *Error {
	return ExcBankGetObjectFailed.New(Kwarg{"reason", reason}, Kwarg{"key", key})
}

// BankListObjectsFailed is karbor.exception.BankListObjectsFailed (KarborException): "Get Object in Bank Failed: %(reason)s"
func BankListObjectsFailed(reason string) *Error {
	return ExcBankListObjectsFailed.New(Kwarg{"reason", reason})
}

// BankReadonlyViolation is karbor.exception.BankReadonlyViolation (KarborException): "Bank read-only violation"
func BankReadonlyViolation() *Error { return ExcBankReadonlyViolation.New() }

// AcquireLeaseFailed is karbor.exception.AcquireLeaseFailed (KarborException): "Acquire Lease in Failed: %(reason)s"
func AcquireLeaseFailed(reason string) *Error {
	return ExcAcquireLeaseFailed.New(Kwarg{"reason", reason})
}

// CreateContainerFailed is karbor.exception.CreateContainerFailed (KarborException): "Create Container in Bank Failed: %(reason)s"
func CreateContainerFailed(reason string) *Error {
	return ExcCreateContainerFailed.New(Kwarg{"reason", reason})
}

// CreateBucketFailed is karbor.exception.CreateBucketFailed (KarborException): "Create Bucket in Bank Failed: %(reason)s"
func CreateBucketFailed(reason string) *Error {
	return ExcCreateBucketFailed.New(Kwarg{"reason", reason})
}

// TriggerIsInvalid is karbor.exception.TriggerIsInvalid (Invalid): "Trigger%(trigger_id)s is invalid."
func TriggerIsInvalid(triggerID string) *Error {
	return ExcTriggerIsInvalid.New(Kwarg{"trigger_id", triggerID})
}

// InvalidTaskFlowObject is karbor.exception.InvalidTaskFlowObject (Invalid): "The task flow is invalid: %(reason)s"
func InvalidTaskFlowObject(reason string) *Error {
	return ExcInvalidTaskFlowObject.New(Kwarg{"reason", reason})
}

// InvalidOriginalId is karbor.exception.InvalidOriginalId (Invalid): "The original_id: %(original_id)s is invalid."
func InvalidOriginalId(originalID string) *Error {
	return ExcInvalidOriginalId.New(Kwarg{"original_id", originalID})
}

// CheckpointNotAvailable is karbor.exception.CheckpointNotAvailable (KarborException): "The checkpoint %(checkpoint_id)s is not available"
func CheckpointNotAvailable(checkpointID string) *Error {
	return ExcCheckpointNotAvailable.New(Kwarg{"checkpoint_id", checkpointID})
}

// CheckpointNotBeDeleted is karbor.exception.CheckpointNotBeDeleted (KarborException): "The checkpoint %(checkpoint_id)s can not be deleted."
func CheckpointNotBeDeleted(checkpointID string) *Error {
	return ExcCheckpointNotBeDeleted.New(Kwarg{"checkpoint_id", checkpointID})
}

// CheckpointNotBeReset is karbor.exception.CheckpointNotBeReset (KarborException): "The checkpoint %(checkpoint_id)s can not be reset."
func CheckpointNotBeReset(checkpointID string) *Error {
	return ExcCheckpointNotBeReset.New(Kwarg{"checkpoint_id", checkpointID})
}

// GetProtectionNetworkSubResourceFailed is karbor.exception.GetProtectionNetworkSubResourceFailed (KarborException): "Get protection network sub-resources of type %(type)s failed: %(reason)s"
func GetProtectionNetworkSubResourceFailed(typ string, reason string) *Error {
	return ExcGetProtectionNetworkSubResourceFailed.New(Kwarg{"type", typ}, Kwarg{"reason", reason})
}

// QuotaNotFound is karbor.exception.QuotaNotFound (NotFound): "Quota could not be found"
func QuotaNotFound() *Error { return ExcQuotaNotFound.New() }

// QuotaResourceUnknown is karbor.exception.QuotaResourceUnknown (QuotaNotFound): "Unknown quota resources %(unknown)s."
func QuotaResourceUnknown(unknown string) *Error {
	return ExcQuotaResourceUnknown.New(Kwarg{"unknown", unknown})
}

// ProjectQuotaNotFound is karbor.exception.ProjectQuotaNotFound (QuotaNotFound): "Quota for project %(project_id)s could not be found."
func ProjectQuotaNotFound(projectID string) *Error {
	return ExcProjectQuotaNotFound.New(Kwarg{"project_id", projectID})
}

// QuotaClassNotFound is karbor.exception.QuotaClassNotFound (QuotaNotFound): "Quota class %(class_name)s could not be found."
func QuotaClassNotFound(className string) *Error {
	return ExcQuotaClassNotFound.New(Kwarg{"class_name", className})
}

// QuotaUsageNotFound is karbor.exception.QuotaUsageNotFound (QuotaNotFound): "Quota usage for project %(project_id)s could not be found."
func QuotaUsageNotFound(projectID string) *Error {
	return ExcQuotaUsageNotFound.New(Kwarg{"project_id", projectID})
}

// ReservationNotFound is karbor.exception.ReservationNotFound (QuotaNotFound): "Quota reservation %(uuid)s could not be found."
func ReservationNotFound(uuid string) *Error { return ExcReservationNotFound.New(Kwarg{"uuid", uuid}) }

// OverQuota is karbor.exception.OverQuota (KarborException): "Quota exceeded for resources: %(overs)s"
func OverQuota(overs string) *Error { return ExcOverQuota.New(Kwarg{"overs", overs}) }

// InvalidReservationExpiration is karbor.exception.InvalidReservationExpiration (Invalid): "Invalid reservation expiration %(expire)s."
func InvalidReservationExpiration(expire string) *Error {
	return ExcInvalidReservationExpiration.New(Kwarg{"expire", expire})
}

// InvalidQuotaValue is karbor.exception.InvalidQuotaValue (Invalid): "Change would make usage less than 0 for the following resources: %(unders)s."
func InvalidQuotaValue(unders string) *Error {
	return ExcInvalidQuotaValue.New(Kwarg{"unders", unders})
}

// QuotaError is karbor.exception.QuotaError (KarborException): "Quota exceeded: code=%(code)s"
func QuotaError() *Error { return ExcQuotaError.New() }

// PlanLimitExceeded is karbor.exception.PlanLimitExceeded (QuotaError): "Maximum number of plans allowed (%(allowed)d) exceeded"
func PlanLimitExceeded(allowed int) *Error {
	return ExcPlanLimitExceeded.New(Kwarg{"allowed", allowed})
}

// CheckpointLimitExceeded is karbor.exception.CheckpointLimitExceeded (QuotaError): "Maximum number of checkpoints allowed (%(allowed)d) exceeded"
func CheckpointLimitExceeded(allowed int) *Error {
	return ExcCheckpointLimitExceeded.New(Kwarg{"allowed", allowed})
}

// UnexpectedOverQuota is karbor.exception.UnexpectedOverQuota (QuotaError): "Unexpected over quota on %(name)s."
func UnexpectedOverQuota(name string) *Error { return ExcUnexpectedOverQuota.New(Kwarg{"name", name}) }

// InvalidName is karbor.exception.InvalidName (Invalid): "An invalid 'name' value was provided. %(reason)s"
func InvalidName(reason string) *Error { return ExcInvalidName.New(Kwarg{"reason", reason}) }

// ValidationError is karbor.exception.ValidationError (Invalid): "%(detail)s"
func ValidationError(detail string) *Error { return ExcValidationError.New(Kwarg{"detail", detail}) }
