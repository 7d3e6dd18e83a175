using System.Security.Claims;
using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Invoicing;

public enum Outcome { Ok, NotFound, Invalid, Conflict }

public sealed record WorkflowResult(Outcome Outcome, string? Error = null, Invoice? Invoice = null, Payment? Payment = null)
{
    public bool Ok => Outcome == Outcome.Ok;

    public int StatusCode => Outcome switch
    {
        Outcome.Ok => StatusCodes.Status200OK,
        Outcome.NotFound => StatusCodes.Status404NotFound,
        Outcome.Invalid => StatusCodes.Status400BadRequest,
        _ => StatusCodes.Status409Conflict,
    };
}

/// <summary>
/// Invoice state changes shared by the billing pages and the invoices API. Each one is a single transaction
/// whose first statement is a guarded UPDATE of the invoice row (status in the allowed set), so the write
/// lock is taken before the state is read: a payment and a cancellation racing on one invoice cannot both
/// succeed. Audit rows, the automatic access (sent/paid) and the closing of payment links the change makes stale
/// commit in the same transaction.
/// </summary>
public sealed class InvoiceWorkflow(CimefDb db, AccessProvisioning access, TimeProvider time, ClinicClock clock)
{
    public const int MaxQuantity = 100;
    public const int MaxLines = 50;

    public sealed record LineRequest(string? ExamCode, int Quantity);

    public static string NotFoundMessage => "Facture introuvable.";

    public async Task<WorkflowResult> CreateAsync(int patientId, IReadOnlyList<LineRequest> lines, ClaimsPrincipal by, CancellationToken ct = default)
    {
        if (lines.Count > MaxLines) return Invalid($"Une facture compte au plus {MaxLines} lignes.");
        var resolved = new List<(Exam Exam, int Quantity)>();
        foreach (var line in lines)
        {
            var (exam, error) = await ResolveLineAsync(line, ct);
            if (error is not null) return Invalid(error);
            resolved.Add((exam!, line.Quantity));
        }

        var now = Now;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var patient = await db.Patients.SingleOrDefaultAsync(p => p.Id == patientId, ct);
        if (patient is null) return new WorkflowResult(Outcome.NotFound, "Patient introuvable.");
        var invoice = new Invoice
        {
            Number = await InvoiceNumbers.NextAsync(db, clock.ToLocal(now).Year, ct),
            Patient = patient,
            PatientId = patient.Id,
            Status = InvoiceStatus.Draft,
            CreatedAt = now,
            CreatedBy = NameOf(by),
        };
        foreach (var (exam, qty) in resolved) invoice.Lines.Add(NewLine(exam, qty));
        if (!Recompute(invoice)) return Invalid(TooLarge);
        db.Invoices.Add(invoice);
        await db.SaveChangesAsync(ct);
        Audit.Staff(db, by, now, "invoice.create", "Invoice", invoice.Id, $"{invoice.Number}, patient {patient.Id}, {Fr.Money(invoice.Total)}");
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new WorkflowResult(Outcome.Ok, Invoice: invoice);
    }

    public async Task<WorkflowResult> AddLineAsync(int invoiceId, LineRequest line, ClaimsPrincipal by, CancellationToken ct = default)
    {
        var (exam, error) = await ResolveLineAsync(line, ct);
        if (error is not null) return Invalid(error);
        return await ChangeAsync(invoiceId, [InvoiceStatus.Draft], "Seule une facture en brouillon peut être modifiée.", async invoice =>
        {
            if (invoice.Lines.Count >= MaxLines) return Invalid($"Une facture compte au plus {MaxLines} lignes.");
            invoice.Lines.Add(NewLine(exam!, line.Quantity));
            if (!Recompute(invoice)) return Invalid(TooLarge);
            Audit.Staff(db, by, Now, "invoice.line.add", "Invoice", invoice.Id, $"{invoice.Number}: {exam!.Code} × {line.Quantity}");
            return null;
        }, ct);
    }

    public Task<WorkflowResult> RemoveLineAsync(int invoiceId, int lineId, ClaimsPrincipal by, CancellationToken ct = default) =>
        ChangeAsync(invoiceId, [InvoiceStatus.Draft], "Seule une facture en brouillon peut être modifiée.", invoice =>
        {
            var line = invoice.Lines.SingleOrDefault(l => l.Id == lineId);
            if (line is null) return Task.FromResult<WorkflowResult?>(new WorkflowResult(Outcome.NotFound, "Ligne introuvable."));
            invoice.Lines.Remove(line);
            db.InvoiceLines.Remove(line);
            _ = Recompute(invoice);
            Audit.Staff(db, by, Now, "invoice.line.remove", "Invoice", invoice.Id, $"{invoice.Number}: {line.Description}");
            return Task.FromResult<WorkflowResult?>(null);
        }, ct);

    public Task<WorkflowResult> SendAsync(int invoiceId, ClaimsPrincipal by, CancellationToken ct = default) =>
        ChangeAsync(invoiceId, [InvoiceStatus.Draft], "Seule une facture en brouillon peut être émise.", async invoice =>
        {
            if (invoice.Lines.Count == 0) return new WorkflowResult(Outcome.Conflict, "Une facture sans ligne ne peut pas être émise.");
            invoice.Status = InvoiceStatus.Sent;
            invoice.IssuedAt = Now;
            invoice.IssuedBy = NameOf(by);
            await access.EnsureForInvoiceAsync(invoice, by, ct);
            Audit.Staff(db, by, Now, "invoice.send", "Invoice", invoice.Id, invoice.Number);
            return null;
        }, ct);

    /// <summary>
    /// Records a payment. An online payment passes the provider's <paramref name="reference"/> (unique per method) and
    /// <paramref name="within"/>, which runs in the same transaction after the payment is added (mark the checkout, queue messages).
    /// </summary>
    public async Task<WorkflowResult> PayAsync(int invoiceId, int amount, PaymentMethod method, ClaimsPrincipal by, CancellationToken ct = default,
        string? reference = null, Func<Invoice, Task>? within = null)
    {
        if (amount <= 0) return Invalid("Le montant doit être un nombre entier de FCFA supérieur à zéro.");
        if (!Enum.IsDefined(method)) return Invalid("Mode de paiement inconnu.");
        Payment? payment = null;
        var result = await ChangeAsync(invoiceId, [InvoiceStatus.Draft, InvoiceStatus.Sent], null, async invoice =>
        {
            if (invoice.Lines.Count == 0) return new WorkflowResult(Outcome.Conflict, "Une facture sans ligne ne peut pas être encaissée.");
            var due = invoice.Total - Paid(invoice);
            if (amount > due)
                return Invalid($"Le montant ({Fr.Money(amount)}) dépasse le reste à payer ({Fr.Money(due)}). Paiement refusé.");
            payment = new Payment { Amount = amount, Method = method, At = Now, ReceivedBy = NameOf(by), Reference = reference };
            invoice.Payments.Add(payment);
            if (invoice.Status == InvoiceStatus.Draft)
            {
                invoice.IssuedAt = Now;
                invoice.IssuedBy = NameOf(by);
            }
            if (amount == due)
            {
                invoice.Status = InvoiceStatus.Paid;
                invoice.PaidAt = Now;
                invoice.PaidBy = NameOf(by);
            }
            else invoice.Status = InvoiceStatus.Sent;
            await access.EnsureForInvoiceAsync(invoice, by, ct);
            Audit.Staff(db, by, Now, "payment.create", "Invoice", invoice.Id,
                $"{invoice.Number}: {Fr.Money(amount)} ({PaymentMethods.French(method)}){(reference is null ? "" : $", réf. {reference}")}{(invoice.Status == InvoiceStatus.Paid ? ", facture payée" : "")}");
            if (within is not null) await within(invoice);
            return null;
        }, ct);
        return result with { Payment = payment };
    }

    public async Task<WorkflowResult> CancelAsync(int invoiceId, string? reason, ClaimsPrincipal by, CancellationToken ct = default)
    {
        reason = reason?.Trim();
        if (string.IsNullOrEmpty(reason)) return Invalid("Indiquez le motif de l'annulation.");
        if (reason.Length > 300) return Invalid("Le motif ne doit pas dépasser 300 caractères.");
        return await ChangeAsync(invoiceId, [InvoiceStatus.Draft, InvoiceStatus.Sent, InvoiceStatus.Paid], null, invoice =>
        {
            if (Paid(invoice) > 0)
                return Task.FromResult<WorkflowResult?>(new WorkflowResult(Outcome.Conflict, invoice.Status == InvoiceStatus.Paid
                    ? "Une facture payée ne peut pas être annulée : annulez d'abord ses paiements, puis la facture."
                    : "Cette facture a des paiements enregistrés : annulez d'abord ses paiements, puis la facture."));
            invoice.Status = InvoiceStatus.Cancelled;
            invoice.CancelledAt = Now;
            invoice.CancelledBy = NameOf(by);
            invoice.CancelReason = reason;
            Audit.Staff(db, by, Now, "invoice.cancel", "Invoice", invoice.Id, $"{invoice.Number}: {reason}");
            return Task.FromResult<WorkflowResult?>(null);
        }, ct);
    }

    public async Task<WorkflowResult> ReversePaymentAsync(int paymentId, string? reason, ClaimsPrincipal by, CancellationToken ct = default)
    {
        reason = reason?.Trim();
        if (string.IsNullOrEmpty(reason)) return Invalid("Indiquez le motif de l'annulation du paiement.");
        if (reason.Length > 300) return Invalid("Le motif ne doit pas dépasser 300 caractères.");
        var invoiceId = await db.Payments.Where(p => p.Id == paymentId).Select(p => (int?)p.InvoiceId).SingleOrDefaultAsync(ct);
        if (invoiceId is null) return new WorkflowResult(Outcome.NotFound, "Paiement introuvable.");
        return await ChangeAsync(invoiceId.Value, [InvoiceStatus.Sent, InvoiceStatus.Paid], null, invoice =>
        {
            var payment = invoice.Payments.Single(p => p.Id == paymentId);
            if (payment.ReversedAt is not null)
                return Task.FromResult<WorkflowResult?>(new WorkflowResult(Outcome.Conflict, "Ce paiement est déjà annulé."));
            payment.ReversedAt = Now;
            payment.ReversedBy = NameOf(by);
            payment.ReversalReason = reason;
            if (invoice.Status == InvoiceStatus.Paid)
            {
                invoice.Status = InvoiceStatus.Sent;
                invoice.PaidAt = null;
                invoice.PaidBy = null;
            }
            Audit.Staff(db, by, Now, "payment.reverse", "Invoice", invoice.Id, $"{invoice.Number}: paiement {payment.Id} de {Fr.Money(payment.Amount)} annulé ({reason})");
            return Task.FromResult<WorkflowResult?>(null);
        }, ct);
    }

    public static int Paid(Invoice invoice) => invoice.Payments.Where(p => p.ReversedAt == null).Sum(p => p.Amount);

    /// <summary>
    /// Runs <paramref name="change"/> on the invoice inside one transaction that first locks the invoice row
    /// with a guarded UPDATE (status in <paramref name="allowed"/>). The change returns null to commit, or an error.
    /// </summary>
    private async Task<WorkflowResult> ChangeAsync(int invoiceId, InvoiceStatus[] allowed, string? wrongStatus,
        Func<Invoice, Task<WorkflowResult?>> change, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var locked = await db.Invoices
            .Where(i => i.Id == invoiceId && allowed.Contains(i.Status))
            .ExecuteUpdateAsync(u => u.SetProperty(i => i.Status, i => i.Status), ct);
        var invoice = await db.Invoices
            .Include(i => i.Patient).Include(i => i.Lines).Include(i => i.Payments).Include(i => i.PatientAccess)
            .AsSplitQuery()
            .SingleOrDefaultAsync(i => i.Id == invoiceId, ct);
        if (invoice is null) return new WorkflowResult(Outcome.NotFound, NotFoundMessage);
        if (locked == 0) return new WorkflowResult(Outcome.Conflict, wrongStatus ?? StatusMessage(invoice.Status), invoice);

        var (statusBefore, dueBefore) = (invoice.Status, invoice.Total - Paid(invoice));
        var error = await change(invoice);
        if (error is not null) return error with { Invoice = invoice };
        // A payment link was opened for the old balance: after a payment, a cancellation or a new total nobody may pay it.
        if ((invoice.Status == InvoiceStatus.Cancelled && statusBefore != InvoiceStatus.Cancelled) || invoice.Total - Paid(invoice) != dueBefore)
            await Payments.CheckoutExpiry.CloseOpenAsync(db, invoice.Id, Now, ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new WorkflowResult(Outcome.Ok, Invoice: invoice);
    }

    private static string StatusMessage(InvoiceStatus status) => status switch
    {
        InvoiceStatus.Cancelled => "Cette facture est annulée : aucune opération n'est possible.",
        InvoiceStatus.Paid => "Cette facture est déjà entièrement payée.",
        InvoiceStatus.Draft => "Cette facture est encore en brouillon.",
        _ => "Opération impossible dans l'état actuel de la facture.",
    };

    private async Task<(Exam? Exam, string? Error)> ResolveLineAsync(LineRequest line, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(line.ExamCode)) return (null, "Choisissez un examen.");
        if (line.Quantity is < 1 or > MaxQuantity) return (null, $"La quantité doit être comprise entre 1 et {MaxQuantity}.");
        var code = line.ExamCode.Trim();
        var exam = await db.Exams.AsNoTracking().SingleOrDefaultAsync(e => e.Code == code, ct);
        if (exam is null) return (null, $"Examen inconnu : « {code} ».");
        if (!exam.IsActive) return (null, $"L'examen « {exam.Name} » n'est plus proposé.");
        return (exam, null);
    }

    private static InvoiceLine NewLine(Exam exam, int qty) => new()
    {
        ExamId = exam.Id,
        Description = exam.Name,
        Quantity = qty,
        UnitPrice = exam.Price,
        Total = exam.Price * qty, // ≤ 10 000 000 × 100: fits an int
    };

    private const string TooLarge = "Le total de la facture dépasse le maximum autorisé.";

    /// <summary>Total = sum of the lines, on the server; false when it would not fit (the change is then refused).</summary>
    private static bool Recompute(Invoice invoice)
    {
        var total = invoice.Lines.Sum(l => (long)l.Total);
        if (total > int.MaxValue) return false;
        invoice.Total = (int)total;
        return true;
    }

    private static WorkflowResult Invalid(string message) => new(Outcome.Invalid, message);

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    private static string NameOf(ClaimsPrincipal by) => by.Identity?.Name ?? "système";
}
