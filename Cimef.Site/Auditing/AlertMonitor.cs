using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Auditing;

/// <summary>
/// Every minute (on the injected <see cref="TimeProvider"/>): evaluates <see cref="AlertRules"/>, then announces
/// each alert that appeared since the last pass — whoever raised it (rules, integrity check, …) — exactly once
/// through <see cref="Announce"/>.
/// </summary>
public sealed class AlertMonitor(
    IServiceScopeFactory scopes, TimeProvider time, Web.ClinicClock clock, ILogger<AlertMonitor> log,
    Notifications.EmailSender email, Microsoft.Extensions.Options.IOptions<AlertsOptions> options) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private int _lastAnnouncedId = -1;
    private readonly SemaphoreSlim _pass = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            await StartFromLatestAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "Could not read the latest alert; the first pass will.");
        }
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "Alert evaluation failed; retrying at the next pass.");
            }
        }
    }

    /// <summary>One pass: evaluate the rules, then announce alerts newer than the last announced one.</summary>
    public async Task RunOnceAsync(CancellationToken ct = default)
    {
        await _pass.WaitAsync(ct);
        try
        {
            if (_lastAnnouncedId < 0) await StartFromLatestAsync(ct);
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CimefDb>();
            await scope.ServiceProvider.GetRequiredService<AlertRules>().EvaluateAsync(time.GetUtcNow().UtcDateTime, ct);
            var fresh = await db.Alerts.AsNoTracking().Where(a => a.Id > _lastAnnouncedId).OrderBy(a => a.Id).ToListAsync(ct);
            foreach (var alert in fresh)
            {
                // Handled before its announcement (folded into the hour's digest by the per-rule cap): not e-mailed.
                if (alert.AcknowledgedAt is null) await AnnounceAsync(alert, ct);
                _lastAnnouncedId = alert.Id;
            }
        }
        finally
        {
            _pass.Release();
        }
    }

    public override void Dispose()
    {
        _pass.Dispose();
        base.Dispose();
    }

    /// <summary>Alerts that exist when the site starts were announced by the previous run (or predate the monitor).</summary>
    private async Task StartFromLatestAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CimefDb>();
        _lastAnnouncedId = await db.Alerts.MaxAsync(a => (int?)a.Id, ct) ?? 0;
    }

    /// <summary>
    /// Called once per new alert: logged, and e-mailed to <c>Alerts:Email</c> when set (SMTP or the pickup folder).
    /// A failed e-mail is logged and not retried: the alert stays on the alerts page until acknowledged.
    /// </summary>
    private async Task AnnounceAsync(Alert alert, CancellationToken ct)
    {
        log.LogWarning("Alert {Level} {Kind} — {Subject}: {Detail}", alert.Level, alert.Kind, alert.Subject, alert.Detail);
        if (string.IsNullOrWhiteSpace(options.Value.Email)) return;
        var message = new MimeKit.MimeMessage();
        message.To.Add(MimeKit.MailboxAddress.Parse(options.Value.Email));
        message.Subject = $"[CIMEF] Alerte {Labels.Level(alert.Level)} : {alert.Subject}";
        message.Body = new MimeKit.TextPart("plain")
        {
            Text = $"Alerte {Labels.Level(alert.Level)} — {clock.DateTime(alert.At)}\n\n{alert.Subject}\n{alert.Detail}\n\nÀ traiter sur la page Alertes du portail (personnel).\n",
        };
        try
        {
            await email.SendAsync(message, ct);
        }
        catch (Notifications.DeliveryException e)
        {
            log.LogWarning("Alert e-mail not sent: {Reason}", e.Message);
        }
    }
}
