using Cimef.Site.Access;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Invoicing;
using Cimef.Site.Pdf;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Pages.Billing;

/// <summary>Billing: one invoice — edit a draft's lines (htmx), send it, cancel it with a reason, download/print the PDF.</summary>
[Authorize(Policy = Policies.Billing)]
public class DetailsModel(CimefDb db, InvoiceWorkflow workflow, CredentialHandover handover,
    IOptions<ClinicOptions> clinic, IOptions<PortalOptions> portal, IAuthorizationService authz,
    Cimef.Site.Payments.PaymentLinks links, TimeProvider time) : StaffPage
{
    public sealed class LineInput
    {
        public string? ExamCode { get; set; }
        public int Quantity { get; set; } = 1;
    }

    [FromRoute] public int Id { get; set; }
    [BindProperty] public LineInput Line { get; set; } = new();
    public Invoice Invoice { get; private set; } = null!;
    public IReadOnlyList<Exam> Exams { get; private set; } = [];
    public int Paid { get; private set; }
    public bool CanTakePayments { get; private set; }
    public bool CanManageAccess { get; private set; }
    public string? LineError { get; private set; }
    /// <summary>Wave is configured and the invoice has a balance: the « Envoyer un lien de paiement Wave » button shows.</summary>
    public bool CanSendWaveLink { get; private set; }
    public Data.Entities.PaymentCheckout? OpenLink { get; private set; }

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ? Page() : NotFound();

    public async Task<IActionResult> OnPostAddLineAsync()
    {
        if (!ModelState.IsValid)
            return await LinesAsync(string.Join(" ", ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage)));
        var result = await workflow.AddLineAsync(Id, new InvoiceWorkflow.LineRequest(Line.ExamCode, Line.Quantity), User);
        return await LinesAsync(result.Ok ? null : result.Error, result);
    }

    public async Task<IActionResult> OnPostRemoveLineAsync(int lineId)
    {
        var result = await workflow.RemoveLineAsync(Id, lineId, User);
        return await LinesAsync(result.Ok ? null : result.Error, result);
    }

    public async Task<IActionResult> OnPostSendAsync()
    {
        var result = await workflow.SendAsync(Id, User);
        return Done(result, result.Invoice?.PatientAccess is { IsActive: false }
            ? "Facture émise. Accès aux résultats fermé (identifiants compromis) : aucun identifiant remis."
            : "Facture émise : l'accès aux résultats du patient est prêt.");
    }

    /// <summary>« Envoyer un lien de paiement Wave »: a checkout session for the balance, its link queued by SMS, audited.</summary>
    public async Task<IActionResult> OnPostWaveLinkAsync()
    {
        var wave = links.Provider("wave");
        if (wave is null) return NotFound();
        var result = await links.CreateAsync(Id, wave, User, textPatient: true, HttpContext.RequestAborted);
        if (result.Outcome == Outcome.NotFound) return NotFound();
        return Done(result.Ok ? $"Lien de paiement Wave de {Fr.Money(result.Checkout!.Amount)} envoyé par SMS au patient." : "Erreur : " + result.Error, null, new { id = Id });
    }

    public async Task<IActionResult> OnPostCancelAsync(string? reason) =>
        Done(await workflow.CancelAsync(Id, reason, User), "Facture annulée.");

    public async Task<IActionResult> OnGetPdfAsync()
    {
        var model = await InvoicePdf.LoadAsync(db, handover, User, CredentialHandover.PageChannel, clinic.Value, portal.Value, Id, HttpContext.RequestAborted, time);
        if (model is null) return NotFound();
        Response.Headers.CacheControl = "no-store";
        var bytes = InvoicePdf.Render(model);
        // inline: the browser's viewer prints it; the file name serves "save as".
        Response.Headers.ContentDisposition = $"inline; filename=\"{model.Invoice.Number}.pdf\"";
        return File(bytes, "application/pdf");
    }

    /// <summary>htmx: the refreshed lines fragment (status 200 even on a refused change, message shown inline); no JS: back to the page.</summary>
    private async Task<IActionResult> LinesAsync(string? error, WorkflowResult? result = null)
    {
        if (result?.Outcome == Outcome.NotFound && result.Error == InvoiceWorkflow.NotFoundMessage) return NotFound();
        return await DoneAsync(error is null ? "Lignes mises à jour." : "Erreur : " + error, async () =>
        {
            if (!await LoadAsync()) return NotFound();
            LineError = error;
            if (error is null) Line = new LineInput();
            return Partial("_Lines", this);
        }, new { id = Id });
    }

    private IActionResult Done(WorkflowResult result, string success)
    {
        if (result.Outcome == Outcome.NotFound) return NotFound();
        return Done(result.Ok ? success : "Erreur : " + result.Error, null, new { id = Id });
    }

    private async Task<bool> LoadAsync()
    {
        var invoice = await db.Invoices.AsNoTracking()
            .Include(i => i.Patient).Include(i => i.Lines).Include(i => i.Payments).Include(i => i.PatientAccess)
            .AsSplitQuery().SingleOrDefaultAsync(i => i.Id == Id);
        if (invoice is null) return false;
        Invoice = invoice;
        Paid = InvoiceWorkflow.Paid(invoice);
        Exams = invoice.Status == InvoiceStatus.Draft
            ? await db.Exams.AsNoTracking().Where(e => e.IsActive).OrderBy(e => e.Modality).ThenBy(e => e.Name).ToListAsync()
            : [];
        CanTakePayments = (await authz.AuthorizeAsync(User, Policies.Payments)).Succeeded;
        CanManageAccess = (await authz.AuthorizeAsync(User, Policies.AccessManagement)).Succeeded;
        CanSendWaveLink = links.Provider("wave") is not null && Cimef.Site.Payments.PaymentLinks.Due(invoice) > 0;
        OpenLink = CanSendWaveLink ? await Cimef.Site.Payments.PaymentLinks.OpenLinkAsync(db, invoice, time.GetUtcNow().UtcDateTime) : null;
        return true;
    }
}
