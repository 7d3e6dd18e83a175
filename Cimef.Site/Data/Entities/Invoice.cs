namespace Cimef.Site.Data.Entities;

public enum InvoiceStatus { Draft, Sent, Paid, Cancelled }

public class Invoice
{
    public int Id { get; set; }
    /// <summary>FAC-yyyy-nnnnnn, unique, sequential per year (see <see cref="InvoiceCounter"/>).</summary>
    public string Number { get; set; } = "";
    public int PatientId { get; set; }
    public Patient Patient { get; set; } = null!;
    public InvoiceStatus Status { get; set; } = InvoiceStatus.Draft;
    /// <summary>Sum of the lines' totals, in XOF; recomputed on the server whenever lines change.</summary>
    public int Total { get; set; }
    public int? PatientAccessId { get; set; }
    public PatientAccess? PatientAccess { get; set; }

    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime? IssuedAt { get; set; }
    public string? IssuedBy { get; set; }
    public DateTime? PaidAt { get; set; }
    public string? PaidBy { get; set; }
    public DateTime? CancelledAt { get; set; }
    public string? CancelledBy { get; set; }
    public string? CancelReason { get; set; }

    public List<InvoiceLine> Lines { get; set; } = [];
    public List<Payment> Payments { get; set; } = [];
}

public class InvoiceLine
{
    public int Id { get; set; }
    public int InvoiceId { get; set; }
    public Invoice Invoice { get; set; } = null!;
    public int? ExamId { get; set; }
    public Exam? Exam { get; set; }
    public string Description { get; set; } = "";
    public int Quantity { get; set; } = 1;
    public int UnitPrice { get; set; }
    public int Total { get; set; }
}

/// <summary>Last number handed out per year; incremented inside the invoice's own transaction.</summary>
public class InvoiceCounter
{
    public int Year { get; set; }
    public int LastNumber { get; set; }
}
