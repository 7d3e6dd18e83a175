using Cimef.Site.Access;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Cimef.Site.Reports;
using Cimef.Site.Portal;

namespace Cimef.Site.Notifications;

/// <summary>
/// One pass over the outbox: a batch of due Pending rows is claimed for this node (<c>Cluster:NodeName</c>) with a
/// lease, in one statement that commits before anything is sent; then each row is rendered (password decrypted only
/// now, body never stored), sent, and marked Sent, rescheduled with back-off, or marked Failed with a reason free of
/// credentials. Several nodes polling at once claim disjoint rows (<see cref="SqlDialect.SkipLocked"/>); a node that
/// dies mid-send leaves its claim to expire (<c>Notifications:LeaseSeconds</c>), then another node claims it; a mark
/// only applies while this node's claim is still the current one (ClaimedBy and LeaseUntil are concurrency tokens),
/// so a node whose lease was taken over never overwrites the new claimer's outcome. A node sends only in the first half
/// of its lease (the rest of the batch is released), so the lease must outlast one send (the SMS timeout, an SMTP
/// exchange) by far.
/// <see cref="OutboxWorker"/> calls it periodically; tests call it directly.
/// </summary>
public sealed class OutboxProcessor(
    CimefDb db, EmailSender email, SmsSender sms, CredentialProtector protector, ReportShares shares,
    Microsoft.AspNetCore.DataProtection.IDataProtectionProvider dataProtection, TimeProvider time,
    IOptions<PortalOptions> portal, IOptions<ClinicOptions> clinic, IOptions<EmailOptions> emailOptions, IOptions<SmsOptions> smsOptions,
    IOptions<NotificationsOptions> notifications, IOptions<ClusterOptions> cluster, ILogger<OutboxProcessor> log)
{
    /// <summary>Delay before each retry: 7 attempts in all, spread over about 24 h.</summary>
    public static readonly TimeSpan[] Backoff =
    [
        TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(2), TimeSpan.FromHours(6), TimeSpan.FromHours(15),
    ];

    public static int MaxAttempts => Backoff.Length + 1;

    public const int BatchSize = 50;

    /// <summary>Sends what is due now; returns how many messages this node claimed (and attempted).</summary>
    public async Task<int> ProcessDueAsync(CancellationToken ct = default)
    {
        var ids = await ClaimAsync(ct);
        if (ids.Count == 0) return 0;
        var claimed = await db.OutboxMessages
            .Include(m => m.Patient).Include(m => m.PatientAccess).Include(m => m.Report).Include(m => m.ReportShare).Include(m => m.RecoveryCode)
            .Include(m => m.PaymentCheckout).ThenInclude(c => c!.Invoice)
            .Where(m => ids.Contains(m.Id))
            .OrderBy(m => m.NextAttemptAt).ThenBy(m => m.Id)
            .ToListAsync(ct);
        var halfLease = TimeSpan.FromSeconds(notifications.Value.LeaseSeconds / 2.0);
        for (var i = 0; i < claimed.Count; i++)
        {
            var message = claimed[i];
            // Claimed by this node: only a lease that ran out (this node stalled) lets another node have it meanwhile.
            if (message.ClaimedBy != cluster.Value.NodeName) continue;
            if (time.GetUtcNow().UtcDateTime > message.LeaseUntil - halfLease)
            {
                // Slow sends ate half the lease: stop before one could outlast it (and be sent again by another node);
                // the rest is released now rather than left to expire.
                await ReleaseAsync(claimed.Skip(i).Select(m => m.Id).ToList(), message.LeaseUntil, ct);
                break;
            }
            await SendOneAsync(message, ct);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateConcurrencyException)
            {
                log.LogWarning("Notification {Id}: the lease ran out and another node claimed it; its outcome is that node's to record.", message.Id);
                db.ChangeTracker.Clear();
            }
        }
        return ids.Count;
    }

    private Task ReleaseAsync(List<int> ids, DateTime? until, CancellationToken ct)
    {
        var node = cluster.Value.NodeName;
        return db.OutboxMessages.Where(m => ids.Contains(m.Id) && m.ClaimedBy == node && m.LeaseUntil == until && m.Status == OutboxStatus.Pending)
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.LeaseUntil, (DateTime?)null), ct);
    }

    /// <summary>
    /// Claims up to <see cref="BatchSize"/> due messages for this node until now + the lease: Pending, due, and not
    /// under another node's live lease. One UPDATE (committed on return), its row choice skipping rows another node is
    /// claiming at the same instant.
    /// </summary>
    public async Task<IReadOnlyList<int>> ClaimAsync(CancellationToken ct = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var until = now.AddSeconds(notifications.Value.LeaseSeconds);
        var sql = $"""
            UPDATE "OutboxMessages" SET "ClaimedBy" = {"{0}"}, "LeaseUntil" = {"{1}"}
            WHERE "Id" IN (
                SELECT "Id" FROM "OutboxMessages"
                WHERE "Status" = {"{2}"} AND "NextAttemptAt" <= {"{3}"} AND ("LeaseUntil" IS NULL OR "LeaseUntil" <= {"{3}"})
                ORDER BY "NextAttemptAt", "Id"
                {SqlDialect.Of(db).Limit(BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture))}
                {SqlDialect.Of(db).SkipLocked})
            RETURNING "Id" AS "Value"
            """;
        return await db.Database.SqlQueryRaw<int>(sql, cluster.Value.NodeName, until, nameof(OutboxStatus.Pending), now).ToListAsync(ct);
    }

    private async Task SendOneAsync(OutboxMessage m, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        m.Attempts++;
        NotificationContent? content = null;
        string[] secrets = [];
        try
        {
            if (m.Kind == OutboxKind.StaffLockout)
                await email.SendAsync(StaffMessages.Lockout(m.Recipient, m.CreatedAt, emailOptions.Value.From, clinic.Value.Name), ct);
            else if (m.Kind == OutboxKind.PaymentLink)
                await sms.SendAsync(m.Recipient, PaymentLinkText(m, portal.Value), ct);
            else if (m.Kind == OutboxKind.RecoveryCode)
            {
                var code = RecoveryCodeOf(m, now);
                secrets = [code];
                var culture = Languages.PatientLanguages.Culture(PatientOf(m).Language);
                if (m.Channel == OutboxChannel.Email)
                    await email.SendAsync(RecoveryMessages.CodeEmail(culture, code, portal.Value.RecoveryCodeMinutes, RecoverUrl,
                        emailOptions.Value.From, clinic.Value.Name, m.Recipient), ct);
                else
                    await sms.SendAsync(m.Recipient, RecoveryMessages.CodeSms(culture, code, portal.Value.RecoveryCodeMinutes, RecoverUrl), ct);
                m.RecoveryCode!.ProtectedCode = null;
            }
            else if (m.Kind == OutboxKind.RecoveryNotice)
            {
                var culture = Languages.PatientLanguages.Culture(PatientOf(m).Language);
                var suffix = CredentialGenerator.Suffix(m.PatientAccess?.AccessKey);
                if (m.Channel == OutboxChannel.Email)
                    await email.SendAsync(RecoveryMessages.NoticeEmail(culture, PatientOf(m).FullName, suffix, clinic.Value.Phone,
                        emailOptions.Value.From, clinic.Value.Name, m.Recipient), ct);
                else
                    await sms.SendAsync(m.Recipient, RecoveryMessages.NoticeSms(culture, suffix, clinic.Value.Phone), ct);
            }
            else if (m.ReportShare is { } share)
            {
                var (token, code) = RenderShare(m, share, now);
                secrets = [token, code];
                if (m.Channel == OutboxChannel.Email)
                    await email.SendAsync(ShareMessages.Email(m.Kind, PatientOf(m).FullName, ReportShares.Link(portal.Value, token), code,
                        share.ExpiresAt, emailOptions.Value.From, clinic.Value.Name, m.Recipient), ct);
                else
                    await sms.SendAsync(m.Recipient, ShareMessages.Sms(m.Kind, PatientOf(m).FullName, ReportShares.Link(portal.Value, token), code), ct);
                await ForgetShareSecretAsync(m, share, ct);
            }
            else
            {
                content = Render(m);
                if (m.Channel == OutboxChannel.Email)
                await email.SendAsync(EmailMessages.Build(content, emailOptions.Value.From, clinic.Value.Name, m.Recipient), ct);
            else
                await sms.SendAsync(m.Recipient, SmsText.Build(content, smsOptions.Value.IncludePassword), ct);
            }
            m.Status = OutboxStatus.Sent;
            m.SentAt = now;
            m.LeaseUntil = null;
            m.LastError = null;
            log.LogInformation("Notification {Id} ({Kind}, {Channel}) sent on attempt {Attempt}.", m.Id, m.Kind, m.Channel, m.Attempts);
        }
        catch (Exception e) when (e is DeliveryException or System.Security.Cryptography.CryptographicException or InvalidOperationException or FormatException)
        {
            var permanent = e is DeliveryException { Permanent: true } or not DeliveryException;
            var reason = Scrub(e is DeliveryException ? e.Message : "Impossible de préparer le message : " + e.GetType().Name, content);
            foreach (var secret in secrets) reason = reason.Replace(secret, "***", StringComparison.Ordinal);
            m.LastError = reason.Length > 500 ? reason[..500] : reason;
            m.LeaseUntil = null;
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

    /// <summary>Every kind but the staff e-mail is about a patient.</summary>
    private static Patient PatientOf(OutboxMessage m) => m.Patient ?? throw new DeliveryException("Aucun patient lié au message", true);

    private NotificationContent Render(OutboxMessage m)
    {
        var access = m.PatientAccess ?? throw new DeliveryException("Aucun accès patient lié au message", true);
        if (!access.IsActive) throw new DeliveryException("Accès patient désactivé : message non envoyé", true);
        if (m.Kind == OutboxKind.ReportAvailable && m.Report is { IsActive: false })
            throw new DeliveryException("Rapport retiré avant l'envoi : message non envoyé", true);
        var password = protector.Unprotect(access.ProtectedPassword);
        return new NotificationContent(m.Kind, PatientOf(m).FullName, portal.Value.Url, access.AccessKey, password, PatientOf(m).Language);
    }

    /// <summary>
    /// The payment-link SMS in the patient's language: invoice number, amount and the link, never the exam. A link no
    /// longer payable (paid, refused, failed) is not sent. The link is never cut: a long one makes a two-part SMS.
    /// </summary>
    private static string PaymentLinkText(OutboxMessage m, PortalOptions portal)
    {
        var culture = Languages.PatientLanguages.Culture(PatientOf(m).Language);
        string Say(string name, params object?[] args) => Languages.PatientText.Format(culture, name, args);
        var link = m.PaymentCheckout ?? throw new DeliveryException("Lien de paiement introuvable", true);
        if (link.Status != CheckoutStatus.Open) throw new DeliveryException("Lien de paiement déjà utilisé ou fermé : message non envoyé", true);
        var url = Payments.PaymentLinks.PublicUrl(portal, link);
        var text = SmsText.ToGsm7(Say("sms_payment", link.Invoice.Number, link.Amount)) + url;
        return text.Length <= SmsText.MaxLength ? text : SmsText.ToGsm7(Say("sms_payment_short")) + url;
    }

    /// <summary>Where a recovery code is typed: the portal's own « /patient/recover » page.</summary>
    private string RecoverUrl => new Uri(new Uri(portal.Value.Url), PatientRoutes.Recover).ToString();

    /// <summary>A recovery code, only while it can still be typed (not expired, not used, not dead); its encrypted copy is dropped once sent.</summary>
    private string RecoveryCodeOf(OutboxMessage m, DateTime now)
    {
        var row = m.RecoveryCode;
        if (row is null || string.IsNullOrEmpty(row.ProtectedCode) || row.UsedAt is not null || row.ExpiresAt <= now || row.Attempts >= Portal.PatientRecovery.MaxCodeAttempts)
            throw new DeliveryException("Code de récupération expiré ou déjà utilisé avant l'envoi : message non envoyé", true);
        return Portal.PatientRecovery.UnprotectCode(dataProtection, row.ProtectedCode);
    }

    /// <summary>A staff-created share's token and code, only while the share is still usable.</summary>
    private (string Token, string Code) RenderShare(OutboxMessage m, ReportShare share, DateTime now)
    {
        if (share.Report is null) db.Entry(share).Reference(s => s.Report).Load();
        if (share.RevokedAt is not null || share.LockedAt is not null || share.ExpiresAt <= now || m.PatientAccess is { IsActive: false } || !share.Report!.IsActive)
            throw new DeliveryException("Partage révoqué ou expiré avant l'envoi : message non envoyé", true);
        return shares.Secret(share) ?? throw new DeliveryException("Partage déjà transmis : le code n'est plus conservé", true);
    }

    /// <summary>Once the link and the code have both gone out, the encrypted copy of them is dropped.</summary>
    private async Task ForgetShareSecretAsync(OutboxMessage sent, ReportShare share, CancellationToken ct)
    {
        var othersPending = await db.OutboxMessages.AnyAsync(o => o.ReportShareId == share.Id && o.Id != sent.Id && o.Status == OutboxStatus.Pending, ct);
        if (!othersPending) share.ProtectedSecret = null;
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
