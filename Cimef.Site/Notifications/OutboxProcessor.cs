using Cimef.Site.Access;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Notifications;

/// <summary>
/// One pass over the outbox: every due Pending row is rendered (password decrypted only now, body never
/// stored), sent, then marked Sent, rescheduled with back-off, or marked Failed with a reason free of
/// credentials. <see cref="OutboxWorker"/> calls it periodically; tests call it directly.
/// </summary>
public sealed class OutboxProcessor(
    CimefDb db, EmailSender email, SmsSender sms, CredentialProtector protector, TimeProvider time,
    IOptions<PortalOptions> portal, IOptions<ClinicOptions> clinic, IOptions<EmailOptions> emailOptions, IOptions<SmsOptions> smsOptions,
    ILogger<OutboxProcessor> log)
{
    /// <summary>Delay before each retry: 7 attempts in all, spread over about 24 h.</summary>
    public static readonly TimeSpan[] Backoff =
    [
        TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(2), TimeSpan.FromHours(6), TimeSpan.FromHours(15),
    ];

    public static int MaxAttempts => Backoff.Length + 1;

    public const int BatchSize = 50;

    /// <summary>Sends what is due now; returns how many messages were attempted.</summary>
    public async Task<int> ProcessDueAsync(CancellationToken ct = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var due = await db.OutboxMessages
            .Include(m => m.Patient).Include(m => m.PatientAccess).Include(m => m.Report)
            .Where(m => m.Status == OutboxStatus.Pending && m.NextAttemptAt <= now)
            .OrderBy(m => m.NextAttemptAt).ThenBy(m => m.Id)
            .Take(BatchSize)
            .ToListAsync(ct);
        foreach (var message in due)
        {
            await SendOneAsync(message, ct);
            await db.SaveChangesAsync(ct);
        }
        return due.Count;
    }

    private async Task SendOneAsync(OutboxMessage m, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        m.Attempts++;
        NotificationContent? content = null;
        try
        {
            content = Render(m);
            if (m.Channel == OutboxChannel.Email)
                await email.SendAsync(EmailMessages.Build(content, emailOptions.Value.From, clinic.Value.Name, m.Recipient), ct);
            else
                await sms.SendAsync(m.Recipient, SmsText.Build(content, smsOptions.Value.IncludePassword), ct);
            m.Status = OutboxStatus.Sent;
            m.SentAt = now;
            m.LastError = null;
            log.LogInformation("Notification {Id} ({Kind}, {Channel}) sent on attempt {Attempt}.", m.Id, m.Kind, m.Channel, m.Attempts);
        }
        catch (Exception e) when (e is DeliveryException or System.Security.Cryptography.CryptographicException or InvalidOperationException or FormatException)
        {
            var permanent = e is DeliveryException { Permanent: true } or not DeliveryException;
            var reason = Scrub(e is DeliveryException ? e.Message : "Impossible de préparer le message : " + e.GetType().Name, content);
            m.LastError = reason.Length > 500 ? reason[..500] : reason;
            if (permanent || m.Attempts >= MaxAttempts)
            {
                m.Status = OutboxStatus.Failed;
                log.LogWarning("Notification {Id} ({Channel}) failed after {Attempts} attempt(s): {Reason}", m.Id, m.Channel, m.Attempts, m.LastError);
            }
            else
            {
                m.NextAttemptAt = now + Backoff[Math.Min(m.Attempts, Backoff.Length) - 1];
                log.LogInformation("Notification {Id} ({Channel}) will be retried at {Next:u}: {Reason}", m.Id, m.Channel, m.NextAttemptAt, m.LastError);
            }
        }
    }

    private NotificationContent Render(OutboxMessage m)
    {
        var access = m.PatientAccess ?? throw new DeliveryException("Aucun accès patient lié au message", true);
        if (!access.IsActive) throw new DeliveryException("Accès patient désactivé : message non envoyé", true);
        if (m.Kind == OutboxKind.ReportAvailable && m.Report is { IsActive: false })
            throw new DeliveryException("Rapport retiré avant l'envoi : message non envoyé", true);
        var password = protector.Unprotect(access.ProtectedPassword);
        return new NotificationContent(m.Kind, m.Patient.FullName, portal.Value.Url, access.AccessKey, password, m.Report?.Title);
    }

    /// <summary>Removes the key (in every written form) and the password from an error text.</summary>
    public static string Scrub(string text, NotificationContent? content)
    {
        if (content is null) return text;
        foreach (var secret in content.Secrets)
            if (!string.IsNullOrEmpty(secret)) text = text.Replace(secret, "***", StringComparison.OrdinalIgnoreCase);
        return text;
    }
}
