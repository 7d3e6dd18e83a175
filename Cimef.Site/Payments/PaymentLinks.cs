using System.Security.Claims;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Invoicing;
using Cimef.Site.Notifications;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Payments;

/// <summary>
/// Payment links: staff open a checkout session for an invoice's balance (and text its link to the patient), and the
/// provider's webhook turns a completed session into a payment through <see cref="InvoiceWorkflow.PayAsync"/> — the
/// usual rules follow (paid → permanent access → credentials queued). The payment, the session's new status and the
/// credentials message commit in one transaction; the unique (method, reference) index makes a replayed or duplicate
/// event record nothing twice. A reported payment the portal cannot record raises an alert for staff.
/// </summary>
public sealed class PaymentLinks(CimefDb db, IEnumerable<IPaymentProvider> providers, InvoiceWorkflow workflow, Access.AccessProvisioning provisioning, TimeProvider time,
    IOptions<PortalOptions> portal, IOptions<AlertsOptions> alerts, ILogger<PaymentLinks> log)
{
    public const string NothingDue = "Rien à payer sur cette facture : aucun lien de paiement créé.";
    public const string UnknownProvider = "Moyen de paiement en ligne inconnu ou non configuré. Valeur possible : wave.";
    public const string SuccessPath = "/paiement/wave/succes";
    public const string ErrorPath = "/paiement/wave/erreur";

    /// <summary>Who records an online payment in the audit trail and on the payment row.</summary>
    public static ClaimsPrincipal ProviderPrincipal(IPaymentProvider p) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, $"{PaymentMethods.French(p.Method)} (paiement en ligne)")], "payment-webhook"));

    public IPaymentProvider? Provider(string? name) =>
        providers.FirstOrDefault(p => p.IsConfigured && string.Equals(p.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));

    public bool AnyConfigured => providers.Any(p => p.IsConfigured);

    public sealed record LinkResult(Outcome Outcome, string? Error, PaymentCheckout? Checkout = null, bool Unreachable = false)
    {
        public bool Ok => Outcome == Outcome.Ok;
    }

    /// <summary>
    /// Opens a checkout session for the invoice's balance; with <paramref name="textPatient"/> its link is queued by SMS.
    /// The provider is called before anything is written: when it fails, nothing is.
    /// </summary>
    public async Task<LinkResult> CreateAsync(int invoiceId, IPaymentProvider provider, ClaimsPrincipal by, bool textPatient, CancellationToken ct = default)
    {
        var invoice = await db.Invoices.AsNoTracking().Include(i => i.Payments).Include(i => i.Lines).Include(i => i.Patient)
            .AsSplitQuery().SingleOrDefaultAsync(i => i.Id == invoiceId, ct);
        if (invoice is null) return new LinkResult(Outcome.NotFound, InvoiceWorkflow.NotFoundMessage);
        var due = Due(invoice);
        if (due <= 0) return new LinkResult(Outcome.Conflict, NothingDue);
        if (textPatient && !FrontDesk.Phones.CanReceiveSms(invoice.Patient.Phone ?? ""))
            return new LinkResult(Outcome.Conflict, "Le patient n'a pas de numéro de mobile pouvant recevoir un SMS : donnez-lui le lien ou le QR de la facture.");

        var opened = await db.PaymentCheckouts.CountAsync(c => c.InvoiceId == invoiceId, ct);
        var origin = new Uri(portal.Value.Url).GetLeftPart(UriPartial.Authority);
        CheckoutSession session;
        try
        {
            // Same invoice, balance and attempt number: a double click gets Wave's same session back.
            session = await provider.CreateCheckoutAsync(new CheckoutRequest(due, invoice.Number, origin + SuccessPath, origin + ErrorPath,
                $"{invoice.Number}-{due}-{opened}"), ct);
        }
        catch (PaymentProviderException e)
        {
            return new LinkResult(Outcome.Conflict, e.Message, Unreachable: true);
        }

        var now = Now;
        var checkout = await db.PaymentCheckouts.SingleOrDefaultAsync(c => c.Provider == provider.Name && c.CheckoutId == session.Id, ct);
        if (checkout is null)
        {
            checkout = new PaymentCheckout
            {
                InvoiceId = invoice.Id, Provider = provider.Name, CheckoutId = session.Id, Amount = due, Url = session.Url,
                CreatedAt = now, CreatedBy = by.Identity?.Name ?? "système", ExpiresAt = session.ExpiresAt,
            };
            db.PaymentCheckouts.Add(checkout);
        }
        Audit.Staff(db, by, now, "payment.link", "Invoice", invoice.Id,
            $"{invoice.Number}: lien {PaymentMethods.French(provider.Method)} de {Fr.Money(due)} ({session.Id}){(textPatient ? ", envoyé par SMS" : "")}");
        if (textPatient)
            db.OutboxMessages.Add(new OutboxMessage
            {
                Kind = OutboxKind.PaymentLink, Channel = OutboxChannel.Sms, PatientId = invoice.PatientId, PatientAccessId = invoice.PatientAccessId,
                PaymentCheckout = checkout, Recipient = invoice.Patient.Phone!, Status = OutboxStatus.Pending, CreatedAt = now, NextAttemptAt = now,
            });
        await db.SaveChangesAsync(ct);
        return new LinkResult(Outcome.Ok, null, checkout);
    }

    /// <summary>
    /// The link the patient gets (SMS, invoice QR, API): the portal's own <c>/paiement/{provider}/{id}</c>, which sends the
    /// phone on to the provider while the checkout is open and otherwise says « Ce lien de paiement n'est plus valable ».
    /// </summary>
    public static string PublicUrl(PortalOptions portal, PaymentCheckout checkout) =>
        new Uri(portal.Url).GetLeftPart(UriPartial.Authority) + "/paiement/" + checkout.Provider + "/" + Uri.EscapeDataString(checkout.CheckoutId);

    /// <summary>The provider's page for the checkout while it is still payable (open, not past its expiry, a balance left), or null.</summary>
    public static async Task<string?> LaunchUrlAsync(CimefDb db, string provider, string checkoutId, DateTime now, CancellationToken ct)
    {
        var checkout = await db.PaymentCheckouts.AsNoTracking().Include(c => c.Invoice).ThenInclude(i => i.Payments).Include(c => c.Invoice).ThenInclude(i => i.Lines)
            .AsSplitQuery().SingleOrDefaultAsync(c => c.Provider == provider && c.CheckoutId == checkoutId, ct);
        return checkout is { Status: CheckoutStatus.Open } && (checkout.ExpiresAt is null || checkout.ExpiresAt > now) && Due(checkout.Invoice) > 0
            ? checkout.Url : null;
    }

    /// <summary>The latest link still payable for an invoice with a balance, or null.</summary>
    public static async Task<PaymentCheckout?> OpenLinkAsync(CimefDb db, Invoice invoice, DateTime now, CancellationToken ct = default)
    {
        if (Due(invoice) <= 0) return null;
        return await db.PaymentCheckouts.AsNoTracking()
            .Where(c => c.InvoiceId == invoice.Id && c.Status == CheckoutStatus.Open && (c.ExpiresAt == null || c.ExpiresAt > now))
            .OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id).FirstOrDefaultAsync(ct);
    }

    public static int Due(Invoice invoice) =>
        invoice.Status is InvoiceStatus.Draft or InvoiceStatus.Sent && invoice.Lines.Count > 0 ? invoice.Total - InvoiceWorkflow.Paid(invoice) : 0;

    /// <summary>Applies a verified webhook event. Never throws for a bad event: the provider gets 200 and staff an alert.</summary>
    public async Task ApplyAsync(IPaymentProvider provider, WebhookEvent ev, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(ev.CheckoutId) || ev.Outcome == WebhookOutcome.Other)
        {
            log.LogInformation("{Provider} webhook {EventId} ({Type}) ignored.", provider.Name, ev.EventId, ev.Type);
            return;
        }
        var checkout = await db.PaymentCheckouts.SingleOrDefaultAsync(c => c.Provider == provider.Name && c.CheckoutId == ev.CheckoutId, ct);
        if (checkout is null)
        {
            log.LogWarning("{Provider} webhook {EventId} for unknown checkout session {Checkout}.", provider.Name, ev.EventId, ev.CheckoutId);
            if (ev.Outcome == WebhookOutcome.Succeeded)
                await AlertAsync(ev.CheckoutId, $"Paiement {PaymentMethods.French(provider.Method)} reçu pour une session inconnue ({ev.CheckoutId}, {Amount(ev)}) : rien n'a été enregistré, vérifiez sur le portail du fournisseur.", ct);
            return;
        }
        if (ev.Outcome == WebhookOutcome.Failed)
        {
            if (checkout.Status == CheckoutStatus.Open)
            {
                checkout.Status = CheckoutStatus.Failed;
                checkout.ClosedAt = Now;
                checkout.LastEventId = Truncate(ev.EventId);
                await db.SaveChangesAsync(ct);
            }
            return;
        }
        if (await AlreadyRecordedAsync(provider, checkout, ct)) return;
        var number = await db.Invoices.Where(i => i.Id == checkout.InvoiceId).Select(i => i.Number).SingleAsync(ct);
        if (ev.ClientReference != number)
        {
            // The session was opened with the invoice number as client_reference: anything else is not this invoice's payment.
            await RefuseAsync(provider, checkout, ev, $"référence client « {Truncate(ev.ClientReference, 40) ?? "absente"} » au lieu de {number}", ct);
            return;
        }
        if (ev.Currency != "XOF" || ev.Amount != checkout.Amount)
        {
            await RefuseAsync(provider, checkout, ev, $"montant ou devise différents de la session ({Amount(ev)} reçu, {Fr.Money(checkout.Amount)} attendu)", ct);
            return;
        }

        WorkflowResult result;
        try
        {
            result = await workflow.PayAsync(checkout.InvoiceId, checkout.Amount, provider.Method, ProviderPrincipal(provider), ct, checkout.CheckoutId, invoice =>
            {
                checkout.Status = CheckoutStatus.Paid;
                checkout.ClosedAt = Now;
                checkout.LastEventId = Truncate(ev.EventId);
                // Paid from the phone: the patient was not at the desk for the printed password, so the credentials go out now.
                return invoice.Status == InvoiceStatus.Paid && invoice.PatientAccess is { IsActive: true } access
                    ? provisioning.QueueCredentialsAsync(access, ct)
                    : Task.CompletedTask;
            });
        }
        catch (DbUpdateException)
        {
            // A concurrent delivery of the same event won the unique (method, reference) index: one payment, as it should.
            db.ChangeTracker.Clear();
            log.LogInformation("{Provider} session {Checkout}: a concurrent delivery recorded the payment.", provider.Name, checkout.CheckoutId);
            return;
        }
        if (result.Ok)
        {
            log.LogInformation("{Provider} session {Checkout}: payment {Payment} recorded on invoice {Invoice}.", provider.Name, checkout.CheckoutId, result.Payment!.Id, checkout.InvoiceId);
            return;
        }
        db.ChangeTracker.Clear();
        var fresh = await db.PaymentCheckouts.SingleAsync(c => c.Id == checkout.Id, ct);
        if (await AlreadyRecordedAsync(provider, fresh, ct)) return;
        await RefuseAsync(provider, fresh, ev, result.Error ?? "paiement impossible", ct);
    }

    private Task<bool> AlreadyRecordedAsync(IPaymentProvider provider, PaymentCheckout checkout, CancellationToken ct) =>
        db.Payments.AnyAsync(p => p.Method == provider.Method && p.Reference == checkout.CheckoutId, ct);

    /// <summary>Marks the checkout refused, audits it and alerts staff, in one transaction.</summary>
    private async Task RefuseAsync(IPaymentProvider provider, PaymentCheckout checkout, WebhookEvent ev, string why, CancellationToken ct)
    {
        var number = await db.Invoices.Where(i => i.Id == checkout.InvoiceId).Select(i => i.Number).SingleAsync(ct);
        log.LogWarning("{Provider} session {Checkout} on invoice {Invoice}: payment not recorded ({Why}).", checkout.Provider, checkout.CheckoutId, number, why);
        await using var tx = await Alerts.BeginAsync(db, ct);
        if (checkout.Status != CheckoutStatus.Refused)
        {
            checkout.Status = CheckoutStatus.Refused;
            checkout.ClosedAt = Now;
            checkout.LastEventId = Truncate(ev.EventId);
        }
        var detail = $"Facture {number} : paiement en ligne non enregistré — {why}. Vérifiez la transaction{(ev.TransactionId is null ? "" : " " + ev.TransactionId)} et remboursez ou encaissez à la main.";
        Audit.Staff(db, ProviderPrincipal(provider), Now, "payment.refuse", "Invoice", checkout.InvoiceId,
            Truncate($"{number} : session {checkout.CheckoutId}, {why}", 500));
        await Alerts.RaiseAsync(db, AlertLevel.Critical, AlertKinds.OnlinePayment, checkout.CheckoutId, detail.Length > 500 ? detail[..500] : detail,
            Now, ct, alerts.Value.MaxPerRulePerHour);
        await db.SaveChangesAsync(ct);
        if (tx is not null) await tx.CommitAsync(ct);
    }

    private async Task AlertAsync(string subject, string detail, CancellationToken ct)
    {
        await using var tx = await Alerts.BeginAsync(db, ct);
        await Alerts.RaiseAsync(db, AlertLevel.Critical, AlertKinds.OnlinePayment, subject.Length > 100 ? subject[..100] : subject, detail.Length > 500 ? detail[..500] : detail, Now, ct, alerts.Value.MaxPerRulePerHour);
        await db.SaveChangesAsync(ct);
        if (tx is not null) await tx.CommitAsync(ct);
    }

    private static string Amount(WebhookEvent ev) => ev.Amount is not int a ? $"montant illisible ({ev.Currency})"
        : ev.Currency == "XOF" ? Fr.Money(a) : $"{a} {ev.Currency}";

    private static string? Truncate(string? s, int max = 100) => s is not null && s.Length > max ? s[..max] : s;

    private DateTime Now => time.GetUtcNow().UtcDateTime;
}
