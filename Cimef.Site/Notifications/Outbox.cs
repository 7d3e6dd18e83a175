using Cimef.Site.Data;
using Cimef.Site.Data.Entities;

namespace Cimef.Site.Notifications;

/// <summary>
/// Queues notifications as rows in the caller's unit of work (same transaction as the change that causes
/// them). Only recipients and references are stored; bodies are rendered when sent.
/// </summary>
public static class Outbox
{
    public static IReadOnlyList<OutboxMessage> Queue(CimefDb db, OutboxKind kind, Patient patient, PatientAccess? access, PatientReport? report, DateTime now)
    {
        var queued = new List<OutboxMessage>(2);
        if (!string.IsNullOrWhiteSpace(patient.Email))
            queued.Add(New(OutboxChannel.Email, patient.Email));
        // A fixed line would swallow the SMS silently; the patient form already told the secretary.
        if (!string.IsNullOrWhiteSpace(patient.Phone) && FrontDesk.Phones.CanReceiveSms(patient.Phone))
            queued.Add(New(OutboxChannel.Sms, patient.Phone));
        db.OutboxMessages.AddRange(queued);
        return queued;

        OutboxMessage New(OutboxChannel channel, string recipient) => new()
        {
            Kind = kind,
            Channel = channel,
            Patient = patient,
            PatientId = patient.Id,
            PatientAccess = access,
            Report = report,
            Recipient = recipient,
            Status = OutboxStatus.Pending,
            CreatedAt = now,
            NextAttemptAt = now,
        };
    }

    /// <summary>The e-mail to a staff member whose account failed sign-ins have just locked (<see cref="StaffMessages.Lockout"/>).</summary>
    public static OutboxMessage QueueStaffLockout(CimefDb db, string email, DateTime now)
    {
        var message = new OutboxMessage
        {
            Kind = OutboxKind.StaffLockout,
            Channel = OutboxChannel.Email,
            Recipient = email,
            Status = OutboxStatus.Pending,
            CreatedAt = now,
            NextAttemptAt = now,
        };
        db.OutboxMessages.Add(message);
        return message;
    }

    /// <summary>« Renvoyer »: a fresh pending copy of a patient's <paramref name="original"/>, to the patient's current address for that channel.</summary>
    public static OutboxMessage Requeue(CimefDb db, OutboxMessage original, DateTime now)
    {
        var patient = original.Patient ?? throw new InvalidOperationException("Only a patient's message is re-sent from the patient's page.");
        var current = original.Channel == OutboxChannel.Email ? patient.Email : patient.Phone;
        var copy = new OutboxMessage
        {
            Kind = original.Kind,
            Channel = original.Channel,
            PatientId = original.PatientId,
            PatientAccessId = original.PatientAccessId,
            ReportId = original.ReportId,
            PaymentCheckoutId = original.PaymentCheckoutId,
            Recipient = string.IsNullOrWhiteSpace(current) ? original.Recipient : current,
            Status = OutboxStatus.Pending,
            CreatedAt = now,
            NextAttemptAt = now,
        };
        db.OutboxMessages.Add(copy);
        return copy;
    }
}
