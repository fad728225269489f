"""All core tables. Import from here: ``from lora_city.storage.models import Device``.

Packages built on the core (tenants/, billing/) define their own tables on the same ``Base`` and ship their own
Alembic migrations (separate branches depending on ``0001_core``).
"""

from lora_city.storage.models.alerts import Alert, AlertAudit, AlertRule, FeedSubscription
from lora_city.storage.models.assets import Asset, AssetDevice, IdempotencyKey
from lora_city.storage.models.base import Base, new_id, utcnow
from lora_city.storage.models.catalogue import (
    CatalogueCodec,
    CatalogueModel,
    CatalogueProfile,
    CatalogueScript,
    CatalogueVendor,
)
from lora_city.storage.models.events import Event
from lora_city.storage.models.fuota import FuotaCampaign, FuotaCampaignDevice
from lora_city.storage.models.integrations import (
    BrokerAccount,
    ConfigGeneration,
    Integration,
    IntegrationDelivery,
)
from lora_city.storage.models.lighting import (
    LightingAssignment,
    LightingCommand,
    LightingException,
    LightingOverride,
    LightingSchedule,
)
from lora_city.storage.models.multicast import MulticastGroup, MulticastGroupDevice, MulticastQueueItem
from lora_city.storage.models.network import (
    Device,
    DeviceKeys,
    DeviceProfile,
    DeviceQueueItem,
    DeviceSession,
    DevNonce,
    Gateway,
    UnknownGateway,
)
from lora_city.storage.models.outbox import OutboxRow, RetentionPolicy
from lora_city.storage.models.readings import Reading
from lora_city.storage.models.security import AuthFailure, AuthLock
from lora_city.storage.models.tenancy import ApiKey, Application, Tenant, User, UserInvitation
from lora_city.storage.models.traffic import TrafficCount

__all__ = [
    "Alert",
    "AlertAudit",
    "AlertRule",
    "ApiKey",
    "Application",
    "Asset",
    "AssetDevice",
    "AuthFailure",
    "AuthLock",
    "Base",
    "BrokerAccount",
    "CatalogueCodec",
    "CatalogueModel",
    "CatalogueProfile",
    "CatalogueScript",
    "CatalogueVendor",
    "ConfigGeneration",
    "DevNonce",
    "Device",
    "DeviceKeys",
    "DeviceProfile",
    "DeviceQueueItem",
    "DeviceSession",
    "Event",
    "FeedSubscription",
    "FuotaCampaign",
    "FuotaCampaignDevice",
    "Gateway",
    "IdempotencyKey",
    "Integration",
    "IntegrationDelivery",
    "LightingAssignment",
    "LightingCommand",
    "LightingException",
    "LightingOverride",
    "LightingSchedule",
    "MulticastGroup",
    "MulticastGroupDevice",
    "MulticastQueueItem",
    "OutboxRow",
    "Reading",
    "RetentionPolicy",
    "Tenant",
    "TrafficCount",
    "UnknownGateway",
    "User",
    "UserInvitation",
    "new_id",
    "utcnow",
]
