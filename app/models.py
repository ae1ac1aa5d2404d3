"""Every table, imported in one place so Alembic and create_all see them all."""

# The outbox listener: every new Event gets its webhook deliveries in the same flush.
import app.webhooks.outbox  # noqa: F401
from app.concerns.models import Concern, ConcernReply
from app.consent.models import Consent
from app.context.models import ContextNote
from app.corrections.models import Correction, DeletionRequest, Statement
from app.disclosures.models import Disclosure
from app.events.models import Event, LedgerCheckpoint, LedgerCheckpointHead
from app.holdings.models import Holding
from app.organizations.models import ApiKey, NetworkAdmin, Organization, Purpose, Staff
from app.participants.models import AccountRecovery, ClaimCode, Enrollment, Participant
from app.reports.models import Report, ReportCounted, ReportRun
from app.security.models import LoginThrottle, WebSession
from app.staff.models import Handover, StaffAccess
from app.stories.models import Story, StoryWordList
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "AccountRecovery",
    "ApiKey",
    "ClaimCode",
    "Concern",
    "ConcernReply",
    "Consent",
    "ContextNote",
    "Correction",
    "DeletionRequest",
    "Disclosure",
    "Enrollment",
    "Event",
    "Handover",
    "Holding",
    "LedgerCheckpoint",
    "LedgerCheckpointHead",
    "LoginThrottle",
    "NetworkAdmin",
    "Organization",
    "Participant",
    "Purpose",
    "Report",
    "ReportCounted",
    "ReportRun",
    "Staff",
    "StaffAccess",
    "Statement",
    "Story",
    "StoryWordList",
    "WebSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
